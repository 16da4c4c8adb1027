#!/usr/bin/env node
// Generates src/protocol/generated/<service>.json from the botocore models in
// ../shared/models/botocore (constraints, HTTP bindings, wire names, error codes, paginators).
// botocore's SQS model is the JSON one: it has no Query names and no Query error codes, so those
// two come from the pinned @aws-sdk/client-sqs schema (its awsQueryCompatible traits), matched
// member by member from every operation's input, output and errors.
// The output is committed; test/unit/generated-drift.test.ts fails when it no longer matches.
// Usage: node scripts/gen-models.mjs [--check]
import { createRequire } from 'node:module';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);
const { NormalizedSchema } = require('@smithy/core/schema');
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
// a copy of ../shared/models/botocore, taken whole (see models/botocore/README.md)
const botocoreRoot = join(root, 'models', 'botocore');

// What botocore does not say: the Smithy namespace (the JSON `__type` prefix), the SDK package
// the wire tests use, and where the SQS Query names and codes come from.
const SERVICES = {
  sqs: {
    namespace: 'com.amazonaws.sqs',
    pkg: '@aws-sdk/client-sqs',
    queryFromSdk: true,
    xmlNamespace: 'http://queue.amazonaws.com/doc/2012-11-05/',
  },
  sts: { namespace: 'com.amazonaws.sts', pkg: '@aws-sdk/client-sts' },
  sns: { namespace: 'com.amazonaws.sns', pkg: '@aws-sdk/client-sns' },
  kinesis: { namespace: 'com.amazonaws.kinesis', pkg: '@aws-sdk/client-kinesis' },
  events: { namespace: 'com.amazonaws.eventbridge', pkg: '@aws-sdk/client-eventbridge' },
  firehose: { namespace: 'com.amazonaws.firehose', pkg: '@aws-sdk/client-firehose' },
  lambda: { namespace: 'com.amazonaws.lambda', pkg: '@aws-sdk/client-lambda' },
};

const PROTOCOLS = { query: 'awsQuery', 'rest-json': 'restJson1' };
const SCALAR = {
  string: 'string',
  integer: 'number',
  long: 'number',
  float: 'number',
  double: 'number',
  boolean: 'boolean',
  blob: 'blob',
  timestamp: 'timestamp',
};

function readBotocore(serviceName) {
  const dir = join(botocoreRoot, serviceName);
  const [version] = readdirSync(dir).sort().reverse();
  const read = (f) => JSON.parse(readFileSync(join(dir, version, f), 'utf8'));
  const paginators = existsSync(join(dir, version, 'paginators-1.json')) ? read('paginators-1.json').pagination : {};
  const readme = readFileSync(join(botocoreRoot, 'README.md'), 'utf8');
  const release = /botocore (\d+\.\d+\.\d+)/.exec(readme)?.[1] ?? 'unknown';
  return { api: read('service-2.json'), paginators, version, release };
}

/** The constraints of a shape, as the validator reads them. */
function rulesOf(shape) {
  const r = {};
  if (shape.min !== undefined) r.min = shape.min;
  if (shape.max !== undefined) r.max = shape.max;
  if (shape.pattern !== undefined) r.pattern = shape.pattern;
  if (shape.enum) r.enum = shape.enum;
  return Object.keys(r).length ? r : undefined;
}

/** Build the model of one service: operations, shapes (structures, lists, maps), errors. */
export function generate(serviceName) {
  const meta = SERVICES[serviceName];
  const { api, paginators, release } = readBotocore(serviceName);
  const md = api.metadata;
  const query = md.protocol === 'query';
  const sdk = fromSdk(serviceName);
  const shapes = {};
  const errors = {};

  // A scalar is written inline as its type (its constraints go on the member, list or map that
  // holds it); aggregates are referenced by their botocore name.
  function ref(name) {
    const shape = api.shapes[name];
    if (!shape) throw new Error(`${serviceName}: no shape ${name}`);
    if (shape.type === 'structure' && shape.document) return 'document';
    const scalar = SCALAR[shape.type];
    if (scalar) return scalar;
    if (!shapes[name]) addShape(name, shape);
    return name;
  }
  function scalarExtras(name, into) {
    const shape = api.shapes[name];
    if (!SCALAR[shape.type]) return into;
    const rules = rulesOf(shape);
    if (rules) into.rules = rules;
    if (shape.timestampFormat) into.timestampFormat = shape.timestampFormat;
    if (shape.streaming) into.streaming = true;
    if (shape.type !== 'string' && into.target === 'number') into.numberType = shape.type;
    return into;
  }

  function addShape(name, shape) {
    shapes[name] = { type: shape.type }; // reserve first: recursive shapes
    if (shape.type === 'structure') {
      const required = new Set(shape.required ?? []);
      const members = {};
      for (const [memberName, m] of Object.entries(shape.members ?? {})) {
        const target = api.shapes[m.shape];
        const out = { target: ref(m.shape) };
        if (required.has(memberName)) out.required = true;
        if (query && m.locationName) out.xmlName = m.locationName;
        if (query && (m.flattened || target.flattened)) out.flattened = true;
        if (m.location) {
          out.location = m.location;
          if (m.locationName) out.locationName = m.locationName;
        }
        if (m.idempotencyToken) out.idempotencyToken = true;
        if (m.jsonvalue) out.jsonValue = true;
        if (m.timestampFormat) out.timestampFormat = m.timestampFormat;
        if (m.eventpayload) out.eventPayload = true;
        scalarExtras(m.shape, out);
        members[memberName] = out;
      }
      const s = { type: 'structure', members };
      if (shape.payload) s.payload = shape.payload;
      if (shape.union) s.union = true;
      if (shape.eventstream) s.eventstream = true;
      if (shape.event) s.event = true;
      if (shape.exception) s.exception = true;
      shapes[name] = s;
    } else if (shape.type === 'list') {
      const s = { type: 'list', member: ref(shape.member.shape) };
      if (query && shape.member.locationName) s.memberName = shape.member.locationName;
      const rules = rulesOf(shape);
      if (rules) s.rules = rules;
      const memberRules = scalarExtras(shape.member.shape, {}).rules;
      if (memberRules) s.memberRules = memberRules;
      shapes[name] = s;
    } else if (shape.type === 'map') {
      const s = { type: 'map', key: ref(shape.key.shape), value: ref(shape.value.shape) };
      if (query && shape.key.locationName) s.keyName = shape.key.locationName;
      if (query && shape.value.locationName) s.valueName = shape.value.locationName;
      const rules = rulesOf(shape);
      if (rules) s.rules = rules;
      const keyRules = scalarExtras(shape.key.shape, {}).rules;
      if (keyRules) s.keyRules = keyRules;
      const valueRules = scalarExtras(shape.value.shape, {}).rules;
      if (valueRules) s.valueRules = valueRules;
      shapes[name] = s;
    } else {
      throw new Error(`${serviceName}: unexpected shape type ${shape.type} for ${name}`);
    }
  }

  function addError(name) {
    if (errors[name]) return;
    const shape = api.shapes[name];
    const fault = shape.fault || shape.error?.senderFault === false ? 'server' : 'client';
    errors[name] = {
      code: shape.error?.code ?? name,
      status: shape.error?.httpStatusCode ?? (fault === 'server' ? 500 : 400),
      fault,
    };
    ref(name);
  }

  const operations = {};
  for (const opName of Object.keys(api.operations).sort()) {
    const op = api.operations[opName];
    const o = {
      input: op.input ? ref(op.input.shape) : null,
      output: op.output ? ref(op.output.shape) : null,
    };
    if (query && op.output?.resultWrapper) o.resultWrapper = op.output.resultWrapper;
    if (md.protocol === 'rest-json') {
      o.http = { method: op.http.method, requestUri: op.http.requestUri };
      if (op.http.responseCode !== undefined) o.http.responseCode = op.http.responseCode;
    }
    const p = paginators[opName];
    if (p) {
      o.paginator = { inputToken: p.input_token, outputToken: p.output_token };
      if (p.limit_key) o.paginator.limitKey = p.limit_key;
      if (p.result_key) o.paginator.resultKey = p.result_key;
    }
    if (op.deprecated) o.deprecated = true;
    for (const e of op.errors ?? []) addError(e.shape);
    operations[opName] = o;
  }
  // exceptions no operation lists are still part of the service's error set (ThrottlingException…)
  for (const [name, shape] of Object.entries(api.shapes)) if (shape.exception) addError(name);

  overlaySdk(serviceName, api, shapes, errors, sdk, !!meta.queryFromSdk);

  const sorted = (o) => Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : 1)));
  const protocol = md.protocol === 'json' ? `awsJson${md.jsonVersion.replace('.', '_')}` : PROTOCOLS[md.protocol];
  const service = {
    name: serviceName,
    namespace: meta.namespace,
    targetPrefix: md.targetPrefix ?? '',
    signingName: md.signingName ?? md.endpointPrefix,
    version: md.apiVersion,
    ...(md.xmlNamespace || meta.xmlNamespace ? { xmlNamespace: md.xmlNamespace ?? meta.xmlNamespace } : {}),
    protocol,
    ...(md.awsQueryCompatible ? { awsQueryCompatible: true } : {}),
  };
  const what = meta.queryFromSdk ? 'member order, Query names and codes' : 'member order';
  const from = `botocore ${release} and ${meta.pkg}@${sdkVersion(meta.pkg)} (${what})`;
  return {
    comment: `Generated by scripts/gen-models.mjs from ${from} (Apache-2.0). Do not edit.`,
    service,
    operations,
    shapes: sorted(shapes),
    errors: sorted(errors),
  };
}

const sdkVersion = (pkg) => require(`${pkg}/package.json`).version;

/**
 * Walks botocore's shapes and the pinned SDK's side by side from the same operation shapes, so
 * that each botocore shape meets the SDK shape in the same position. It puts structure members in
 * the SDK's order, which is the order the service declares them (the botocore copy has them
 * sorted; the order decides which missing member an error names first and the order of XML
 * elements). With `queryNames` it also copies the Query names (member xmlName and flattening, list
 * member and map entry names) and the Query error codes, which botocore's JSON SQS model lacks.
 */
function overlaySdk(serviceName, api, shapes, errors, sdk, queryNames) {
  const seen = new Set();
  const mismatch = (what) => {
    if (queryNames) throw new Error(`${serviceName}: ${what}`);
  };
  function walk(name, sdkName) {
    const key = `${name}|${sdkName}`;
    if (seen.has(key) || !shapes[name]) return;
    seen.add(key);
    const ours = shapes[name];
    const theirs = sdk.shapes[sdkName];
    if (!theirs || theirs.type !== ours.type) return mismatch(`${name} does not match the SDK's ${sdkName}`);
    if (ours.type === 'structure') {
      const order = Object.keys(theirs.members);
      const rank = (m) => (order.includes(m) ? order.indexOf(m) : order.length);
      ours.members = Object.fromEntries(Object.entries(ours.members).sort(([a], [b]) => rank(a) - rank(b)));
      for (const [m, om] of Object.entries(ours.members)) {
        const tm = theirs.members[m];
        if (!tm) {
          mismatch(`the SDK's ${sdkName} has no member ${m}`);
          continue;
        }
        if (queryNames && tm.xmlName) om.xmlName = tm.xmlName;
        if (queryNames && tm.flattened) om.flattened = true;
        walk(om.target, tm.target);
      }
    } else if (ours.type === 'list') {
      if (queryNames && theirs.memberName) ours.memberName = theirs.memberName;
      walk(ours.member, theirs.member);
    } else {
      if (queryNames && theirs.keyName) ours.keyName = theirs.keyName;
      if (queryNames && theirs.valueName) ours.valueName = theirs.valueName;
      walk(ours.key, theirs.key);
      walk(ours.value, theirs.value);
    }
  }
  for (const [opName, op] of Object.entries(api.operations)) {
    const theirs = sdk.operations[opName];
    if (!theirs) {
      mismatch(`the SDK has no operation ${opName}`);
      continue;
    }
    if (op.input && theirs.input) walk(op.input.shape, theirs.input);
    if (op.output && theirs.output) walk(op.output.shape, theirs.output);
  }
  if (!queryNames) return;
  for (const [name, e] of Object.entries(errors)) {
    const theirs = sdk.errors[name];
    if (!theirs) throw new Error(`${serviceName}: the SDK has no error ${name}`);
    e.code = theirs.code;
    e.status = theirs.status;
  }
}

/** The same model read from the pinned SDK's schema (used for what botocore lacks). */
export function fromSdk(serviceName) {
  const meta = SERVICES[serviceName];
  const mod = require(meta.pkg);
  const shapes = {};
  const operations = {};
  const errors = {};

  function typeOf(ns) {
    if (ns.isStructSchema()) return 'structure';
    if (ns.isListSchema()) return 'list';
    if (ns.isMapSchema()) return 'map';
    if (ns.isBlobSchema()) return 'blob';
    if (ns.isTimestampSchema()) return 'timestamp';
    if (ns.isBooleanSchema()) return 'boolean';
    if (ns.isNumericSchema()) return 'number';
    if (ns.isStringSchema()) return 'string';
    if (ns.isDocumentSchema()) return 'document';
    throw new Error(`unknown schema kind for ${ns.getName()}`);
  }

  // Returns the name to reference: a shape name for aggregates, the type name for scalars.
  function ref(ns) {
    const type = typeOf(ns);
    if (type === 'structure' || type === 'list' || type === 'map') {
      // A list or map of scalars may be inlined as a numeric sentinel (64: list, 128: map): it has
      // no name of its own (getName() answers the member's), so it is named by what it holds.
      const anonymous = typeof ns.getSchema() === 'number' && type !== 'structure';
      const name = anonymous
        ? type === 'list'
          ? `List<${ref(ns.getValueSchema())}>`
          : `Map<${ref(ns.getKeySchema())},${ref(ns.getValueSchema())}>`
        : ns.getName();
      if (!shapes[name]) addShape(name, ns, type);
      return name;
    }
    return type;
  }

  function addShape(name, ns, type) {
    shapes[name] = { type }; // reserve first: recursive shapes
    if (type === 'structure') {
      const raw = ns.getSchema();
      // The raw structure tuple is [3, namespace, name, traits, memberNames, memberSchemas, requiredCount]:
      // the first requiredCount members are the required ones (internal layout, asserted by a unit test).
      const requiredCount = Array.isArray(raw) && typeof raw[6] === 'number' ? raw[6] : 0;
      const members = {};
      let i = 0;
      for (const [memberName, member] of ns.structIterator()) {
        const traits = member.getMemberTraits();
        const m = { target: ref(member) };
        if (i < requiredCount) m.required = true;
        if (traits.xmlName) m.xmlName = traits.xmlName;
        if (traits.xmlFlattened) m.flattened = true;
        members[memberName] = m;
        i++;
      }
      shapes[name] = { type, members };
    } else if (type === 'list') {
      const member = ns.getValueSchema();
      const s = { type, member: ref(member) };
      const xn = member.getMergedTraits().xmlName;
      if (xn) s.memberName = xn;
      shapes[name] = s;
    } else {
      const key = ns.getKeySchema();
      const value = ns.getValueSchema();
      const s = { type, key: ref(key), value: ref(value) };
      const kn = key.getMergedTraits().xmlName;
      const vn = value.getMergedTraits().xmlName;
      if (kn) s.keyName = kn;
      if (vn) s.valueName = vn;
      shapes[name] = s;
    }
  }

  for (const exportName of Object.keys(mod).sort()) {
    if (!exportName.endsWith('$')) continue;
    const schema = mod[exportName];
    if (!Array.isArray(schema)) continue;
    const kind = schema[0];
    if (kind === 9) {
      const [, , name, , input, output] = schema;
      const inNs = NormalizedSchema.of(input());
      const outNs = NormalizedSchema.of(output());
      operations[name] = {
        input: inNs.isUnitSchema() ? null : ref(inNs),
        output: outNs.isUnitSchema() ? null : ref(outNs),
      };
    } else if (kind === -3) {
      const [, , name, traits] = schema;
      if (name.endsWith('ServiceException')) continue;
      const qe = traits.awsQueryError;
      errors[name] = {
        code: qe ? qe[0] : name,
        status: qe ? qe[1] : (traits.httpError ?? 400),
        fault: traits.error === 'server' ? 'server' : 'client',
      };
    }
  }
  return { operations, shapes, errors };
}

export function outputPath(serviceName) {
  return join(root, 'src', 'protocol', 'generated', `${serviceName}.json`);
}

// Services whose AWS front end validates the Coral way: their handlers only ever see values of an
// enum, so enums are typed as unions; elsewhere (SQS, SNS) a handler may see any string.
const CORAL_VALIDATED = new Set(['sts', 'kinesis', 'events', 'firehose', 'lambda']);

const GENERATED_NOTE = (serviceName) =>
  `// Generated by scripts/gen-models.mjs from src/protocol/generated/${serviceName}.json. Do not edit.\n`;

/** TypeScript types for the handlers: one interface per structure, an Operations map. */
export function renderTypes(serviceName, model = generate(serviceName)) {
  const unions = CORAL_VALIDATED.has(serviceName);
  const SCALAR_TS = {
    string: 'string',
    number: 'number',
    boolean: 'boolean',
    blob: 'Buffer',
    timestamp: 'Date',
    document: 'unknown',
  };
  const quote = (v) => `'${v.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
  const typeOf = (target, rules) => {
    if (target === 'string' && unions && rules?.enum) return rules.enum.map(quote).join(' | ');
    if (SCALAR_TS[target]) return SCALAR_TS[target];
    const shape = model.shapes[target];
    if (shape.type === 'list') {
      const inner = typeOf(shape.member, shape.memberRules);
      return /[ |]/.test(inner) ? `(${inner})[]` : `${inner}[]`;
    }
    if (shape.type === 'map') return `{ [key: string]: ${typeOf(shape.value, shape.valueRules)} }`;
    return target;
  };
  const key = (name) => (/^[A-Za-z_$][\w$]*$/.test(name) ? name : quote(name));
  const lines = [GENERATED_NOTE(serviceName), '/* eslint-disable */', ''];
  for (const [name, shape] of Object.entries(model.shapes)) {
    if (shape.type !== 'structure') continue;
    lines.push(`export interface ${name} {`);
    for (const [m, member] of Object.entries(shape.members))
      lines.push(`  ${key(m)}${member.required ? '' : '?'}: ${typeOf(member.target, member.rules)};`);
    lines.push('}', '');
  }
  lines.push(
    '/** Every operation of the model: what its handler receives and returns. */',
    'export interface Operations {',
  );
  for (const [op, o] of Object.entries(model.operations))
    lines.push(`  ${op}: { input: ${o.input ?? 'Record<string, never>'}; output: ${o.output ?? 'void'} };`);
  lines.push('}', '');
  const enums = new Map();
  const collect = (name, rules) => {
    if (rules?.enum && !enums.has(name)) enums.set(name, rules.enum);
  };
  for (const [name, shape] of Object.entries(model.shapes)) {
    if (shape.type === 'structure')
      for (const [m, member] of Object.entries(shape.members)) collect(`${name}_${m}`, member.rules);
  }
  if (enums.size) {
    lines.push('/** The values of each enum member, as `<Structure>_<Member>`. */', 'export const enumValues = {');
    for (const [name, values] of enums) lines.push(`  ${name}: [${values.map(quote).join(', ')}],`);
    lines.push('} as const;', '');
  }
  return lines.join('\n');
}

/** One factory per modelled error, with its code, status and fault from the model. */
export function renderErrors(serviceName, model = generate(serviceName)) {
  const lines = [
    GENERATED_NOTE(serviceName),
    "import { ServiceError } from '../../../kernel/errors.js';",
    '',
    '/** What a modelled error may carry besides its message. */',
    'export interface ErrorDetails {',
    '  extra?: Record<string, string>;',
    '  queryMessage?: string;',
    '}',
    '',
    '/** The modelled errors: `modelErrors.X(message)` has the code and status the model gives X. */',
    'export const modelErrors = {',
  ];
  for (const [name, e] of Object.entries(model.errors)) {
    const code = e.code === name ? '' : ` code: '${e.code}',`;
    lines.push(
      `  ${name}: (message: string, details: ErrorDetails = {}) =>`,
      `    new ServiceError('${name}', message, {${code} status: ${e.status}, fault: '${e.fault}', ...details }),`,
    );
  }
  lines.push('};', '');
  return lines.join('\n');
}

/** Every file the generator writes, by path. */
export function outputs() {
  const files = new Map();
  for (const name of Object.keys(SERVICES)) {
    const model = generate(name);
    files.set(outputPath(name), JSON.stringify(model, null, 1) + '\n');
    const dir = join(root, 'src', 'services', name, 'generated');
    files.set(join(dir, 'types.ts'), renderTypes(name, model));
    files.set(join(dir, 'errors.ts'), renderErrors(name, model));
  }
  return files;
}

export function render(serviceName) {
  return JSON.stringify(generate(serviceName), null, 1) + '\n';
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const check = process.argv.includes('--check');
  let drift = false;
  for (const [path, text] of outputs()) {
    if (check) {
      let current = '';
      try {
        current = readFileSync(path, 'utf8');
      } catch {
        /* missing counts as drift */
      }
      if (current !== text) {
        console.error(`drift: ${path} does not match the models; run npm run gen:models`);
        drift = true;
      }
    } else {
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, text);
      console.log(`wrote ${path}`);
    }
  }
  process.exit(drift ? 1 : 0);
}
