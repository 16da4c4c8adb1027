#!/usr/bin/env node
// Generates src/protocol/generated/<service>.json from the pinned @aws-sdk/client-* schemas.
// The output is committed; test/unit/generated-drift.test.ts fails when it no longer matches.
// Usage: node scripts/gen-models.mjs [--check]
import { createRequire } from 'node:module';
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);
const { NormalizedSchema } = require('@smithy/core/schema');
const root = join(dirname(fileURLToPath(import.meta.url)), '..');

// Metadata the v3 schemas do not carry (the SQS Query namespace is absent from the v3 config).
const SERVICES = {
  sqs: {
    pkg: '@aws-sdk/client-sqs',
    namespace: 'com.amazonaws.sqs',
    targetPrefix: 'AmazonSQS',
    signingName: 'sqs',
    version: '2012-11-05',
    xmlNamespace: 'http://queue.amazonaws.com/doc/2012-11-05/',
    protocol: 'awsJson1_0',
    awsQueryCompatible: true,
  },
  sts: {
    pkg: '@aws-sdk/client-sts',
    namespace: 'com.amazonaws.sts',
    targetPrefix: '',
    signingName: 'sts',
    version: '2011-06-15',
    xmlNamespace: 'https://sts.amazonaws.com/doc/2011-06-15/',
    protocol: 'awsQuery',
  },
  // models for the services to come: the wire tests check the codecs against their SDKs already
  sns: {
    pkg: '@aws-sdk/client-sns',
    namespace: 'com.amazonaws.sns',
    targetPrefix: '',
    signingName: 'sns',
    version: '2010-03-31',
    xmlNamespace: 'http://sns.amazonaws.com/doc/2010-03-31/',
    protocol: 'awsQuery',
  },
  kinesis: {
    pkg: '@aws-sdk/client-kinesis',
    namespace: 'com.amazonaws.kinesis',
    targetPrefix: 'Kinesis_20131202',
    signingName: 'kinesis',
    version: '2013-12-02',
    protocol: 'awsJson1_1',
  },
  events: {
    pkg: '@aws-sdk/client-eventbridge',
    namespace: 'com.amazonaws.eventbridge',
    targetPrefix: 'AWSEvents',
    signingName: 'events',
    version: '2015-10-07',
    protocol: 'awsJson1_1',
  },
  firehose: {
    pkg: '@aws-sdk/client-firehose',
    namespace: 'com.amazonaws.firehose',
    targetPrefix: 'Firehose_20150804',
    signingName: 'firehose',
    version: '2015-08-04',
    protocol: 'awsJson1_1',
  },
};

/** Build the model of one service: operations, shapes (structures, lists, maps), errors. */
export function generate(serviceName) {
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
  const sorted = (o) => Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : 1)));
  const { pkg, ...service } = meta;
  const version = require(`${pkg}/package.json`).version;
  return {
    comment: `Generated by scripts/gen-models.mjs from ${pkg}@${version} (Apache-2.0). Do not edit.`,
    service: { name: serviceName, ...service },
    operations: sorted(operations),
    shapes: sorted(shapes),
    errors: sorted(errors),
  };
}

export function outputPath(serviceName) {
  return join(root, 'src', 'protocol', 'generated', `${serviceName}.json`);
}

export function render(serviceName) {
  return JSON.stringify(generate(serviceName), null, 1) + '\n';
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const check = process.argv.includes('--check');
  let drift = false;
  for (const name of Object.keys(SERVICES)) {
    const text = render(name);
    const path = outputPath(name);
    if (check) {
      let current = '';
      try {
        current = readFileSync(path, 'utf8');
      } catch {
        /* missing counts as drift */
      }
      if (current !== text) {
        console.error(`drift: ${path} does not match the pinned schemas; run npm run gen:models`);
        drift = true;
      }
    } else {
      writeFileSync(path, text);
      console.log(`wrote ${path}`);
    }
  }
  process.exit(drift ? 1 : 0);
}
