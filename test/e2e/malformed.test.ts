/**
 * Hostile and malformed input on both protocols, with raw requests: every one gets the AWS error (status, code and
 * wording), never a 500, a hang or a crash; every response carries x-amzn-RequestId and Date; and the server still
 * answers /_wharf/health afterwards.
 */
import http from 'node:http';
import http2 from 'node:http2';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Wharf } from '../../src/index.js';
import { withWharf } from '../helpers/sqs.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

interface Raw {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

const JSON_CT = 'application/x-amz-json-1.0';
const FORM_CT = 'application/x-www-form-urlencoded; charset=utf-8';
const MIB = 1024 * 1024;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
// characters XML 1.0 cannot carry: a Query response containing one cannot be parsed
// eslint-disable-next-line no-control-regex
const NOT_XML = /[\x00-\x08\x0B\x0C\x0E-\x1F\uFFFE\uFFFF]|[\uD800-\uDFFF]/u;

let wharf: Wharf;
let url: string; // a standard queue
let other: string; // another standard queue
const agent = new http.Agent({ keepAlive: false });

/** Every answer from the AWS endpoint: a request id, a Date, never a 5xx. */
function checkEnvelope(r: { status: number; headers: http.IncomingHttpHeaders | http2.IncomingHttpHeaders }) {
  expect(r.status, 'never a server error').toBeLessThan(500);
  expect(r.headers['x-amzn-requestid']).toMatch(UUID);
  expect(Number.isNaN(Date.parse(String(r.headers.date)))).toBe(false);
}

function request(o: { method?: string; path?: string; headers?: Record<string, string>; body?: string | Buffer }) {
  return new Promise<Raw>((resolve, reject) => {
    const req = http.request(
      `${wharf.endpoint}${o.path ?? '/'}`,
      { method: o.method ?? 'POST', headers: o.headers ?? {}, agent },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const r = { status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() };
          checkEnvelope(r);
          resolve(r);
        });
      },
    );
    req.on('error', reject);
    req.end(o.body);
  });
}

/** A JSON-protocol request; `body` is sent as is when a string or Buffer, else JSON-encoded. */
function json(target: string, body: unknown, headers: Record<string, string> = {}) {
  const text = typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body);
  const t = target.includes('.') ? target : `AmazonSQS.${target}`;
  return request({ headers: { 'content-type': JSON_CT, 'x-amz-target': t, ...headers }, body: text });
}

function query(body: string, path = '/') {
  return request({ path, headers: { 'content-type': FORM_CT }, body });
}

const form = (params: Record<string, string | number>) =>
  Object.entries(params)
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`)
    .join('&');

function expectJsonError(r: Raw, status: number, type: string, code: string, message?: string | RegExp) {
  expect(r.status, r.body).toBe(status);
  expect(r.headers['content-type']).toBe(JSON_CT);
  const body = JSON.parse(r.body) as Json;
  expect(body.__type).toBe(type.includes('#') ? type : `com.amazonaws.sqs#${type}`);
  expect(r.headers['x-amzn-query-error']).toBe(`${code};Sender`);
  if (message !== undefined) expect(body.message).toMatch(message);
}

function expectQueryError(r: Raw, status: number, code: string, message?: string | RegExp) {
  expect(r.status, r.body).toBe(status);
  expect(r.headers['content-type']).toBe('text/xml');
  expect(r.body).toMatch(
    /^<\?xml version="1.0"\?><ErrorResponse xmlns="http:\/\/queue.amazonaws.com\/doc\/2012-11-05\/">/,
  );
  expect(r.body).toContain(`<Type>Sender</Type><Code>${code}</Code>`);
  expect(r.body).toContain(`<RequestId>${r.headers['x-amzn-requestid']}</RequestId>`);
  expect(r.body).not.toMatch(NOT_XML);
  if (message !== undefined) {
    const m = /<Message>([\s\S]*)<\/Message>/.exec(r.body)?.[1] ?? '';
    const text = m
      .replace(/&quot;/g, '"')
      .replace(/&lt;/g, '<')
      .replace(/&gt;/g, '>')
      .replace(/&amp;/g, '&');
    if (typeof message === 'string') expect(text).toBe(message);
    else expect(text).toMatch(message);
  }
}

const CORAL = 'com.amazon.coral.service#';
const serialization = (r: Raw, message: string) =>
  expectJsonError(r, 400, `${CORAL}SerializationException`, 'SerializationException', message);
const invalidParam = `${CORAL}InvalidParameterValueException`;

async function receiveHandle(queueUrl: string, body = 'handle me'): Promise<string> {
  expect((await json('SendMessage', { QueueUrl: queueUrl, MessageBody: body })).status).toBe(200);
  const got = JSON.parse((await json('ReceiveMessage', { QueueUrl: queueUrl, VisibilityTimeout: 300 })).body);
  return got.Messages[0].ReceiptHandle as string;
}

beforeAll(async () => {
  wharf = await withWharf();
  url = JSON.parse((await json('CreateQueue', { QueueName: 'hostile' })).body).QueueUrl;
  other = JSON.parse((await json('CreateQueue', { QueueName: 'hostile-other' })).body).QueueUrl;
});

afterAll(async () => {
  agent.destroy();
  await wharf?.stop();
});

describe('JSON protocol', () => {
  it('answers unparseable JSON and non-object bodies with SerializationException', async () => {
    serialization(
      await json('ListQueues', '{"QueueNamePrefix":'),
      'Start of structure or map found where not expected.',
    );
    serialization(await json('ListQueues', '[]'), 'Start of list found where not expected');
    serialization(await json('ListQueues', '[{"QueueNamePrefix":"a"}]'), 'Start of list found where not expected');
    serialization(await json('ListQueues', '"text"'), 'STRING_VALUE can not be converted to a Structure');
    serialization(await json('ListQueues', '42'), 'NUMBER_VALUE can not be converted to a Structure');
    serialization(await json('ListQueues', 'null'), 'NULL_VALUE can not be converted to a Structure');
    serialization(
      await json('ListQueues', Buffer.from([0xff, 0xfe, 0x00])),
      'Start of structure or map found where not expected.',
    );
    serialization(await json('ListQueues', '['.repeat(100_000)), 'Start of structure or map found where not expected.');
  });

  it('answers members of the wrong type with SerializationException in Coral wording', async () => {
    const cases: [string, Json, string][] = [
      [
        'SendMessage',
        { QueueUrl: url, MessageBody: 'x', DelaySeconds: 'abc' },
        'STRING_VALUE can not be converted to an Integer',
      ],
      [
        'SendMessage',
        { QueueUrl: url, MessageBody: 'x', DelaySeconds: true },
        'TRUE_VALUE can not be converted to an Integer',
      ],
      ['ReceiveMessage', { QueueUrl: url, MaxNumberOfMessages: [1] }, 'Start of list found where not expected'],
      ['CreateQueue', { QueueName: { a: 1 } }, 'Start of structure or map found where not expected.'],
      ['CreateQueue', { QueueName: 5 }, 'NUMBER_VALUE can not be converted to a String'],
      ['CreateQueue', { QueueName: false }, 'FALSE_VALUE can not be converted to a String'],
      [
        'CreateQueue',
        { QueueName: 'q', Attributes: 'VisibilityTimeout=5' },
        'STRING_VALUE can not be converted to a Map',
      ],
      [
        'CreateQueue',
        { QueueName: 'q', Attributes: { VisibilityTimeout: 5 } },
        'NUMBER_VALUE can not be converted to a String',
      ],
      [
        'CreateQueue',
        { QueueName: 'q', Attributes: { VisibilityTimeout: ['5'] } },
        'Start of list found where not expected',
      ],
      ['GetQueueAttributes', { QueueUrl: url, AttributeNames: 'All' }, 'STRING_VALUE can not be converted to a List'],
      [
        'SendMessageBatch',
        { QueueUrl: url, Entries: { Id: 'a' } },
        'Start of structure or map found where not expected.',
      ],
      ['SendMessageBatch', { QueueUrl: url, Entries: ['a'] }, 'STRING_VALUE can not be converted to a Structure'],
      [
        'SendMessage',
        { QueueUrl: url, MessageBody: 'x', MessageAttributes: { a: 'b' } },
        'STRING_VALUE can not be converted to a Structure',
      ],
    ];
    for (const [op, input, message] of cases) serialization(await json(op, input), message);
    // a number too large for a double arrives as Infinity
    serialization(
      await json('ReceiveMessage', `{"QueueUrl":"${url}","MaxNumberOfMessages":1e999}`),
      'NUMBER_VALUE can not be converted to an Integer',
    );
    const blob = await json('SendMessage', {
      QueueUrl: url,
      MessageBody: 'x',
      MessageAttributes: { b: { DataType: 'Binary', BinaryValue: 'not base64!' } },
    });
    expectJsonError(blob, 400, `${CORAL}SerializationException`, 'SerializationException');
  });

  it('answers an unknown or inherited X-Amz-Target with UnknownOperationException', async () => {
    const targets = [
      'AmazonSQS.NoSuchAction',
      'AmazonSQS.listQueues',
      'AmazonSQS.',
      'AmazonSQS',
      // names an object inherits are not actions
      'AmazonSQS.toString',
      'AmazonSQS.constructor',
      'AmazonSQS.__proto__',
      'AmazonSQS.hasOwnProperty',
    ];
    for (const t of targets) {
      expectJsonError(await json(t, '{}'), 400, `${CORAL}UnknownOperationException`, 'UnknownOperationException');
    }
    // a service Wharf does not serve: the message names what was asked for and what is served
    for (const t of ['Firehose_20150804.ListDeliveryStreams', 'DynamoDB_20120810.ListTables', '.ListQueues']) {
      const r = await json(t, '{}');
      expect(r.status).toBe(400);
      const body = JSON.parse(r.body) as Json;
      expect(body.__type).toBe(`${CORAL}UnknownOperationException`);
      expect(body.message).toBe(
        `Wharf does not serve X-Amz-Target ${t}; it serves sqs (X-Amz-Target AmazonSQS), sns, sts, kinesis (X-Amz-Target Kinesis_20131202).`,
      );
      // not SQS's: no legacy Query code
      expect(r.headers['x-amzn-query-error']).toBeUndefined();
    }
  });

  it('treats an empty body as {} and reports missing required members', async () => {
    expect((await json('ListQueues', '')).status).toBe(200);
    expectJsonError(
      await json('CreateQueue', ''),
      400,
      invalidParam.replace('InvalidParameterValueException', 'MissingRequiredParameterException'),
      'MissingParameter',
      'The request must contain the parameter QueueName.',
    );
    expectJsonError(
      await json('SendMessage', { QueueUrl: url }),
      400,
      `${CORAL}MissingRequiredParameterException`,
      'MissingParameter',
      'The request must contain the parameter MessageBody.',
    );
    expectJsonError(
      await json('SendMessage', { QueueUrl: url, MessageBody: null }),
      400,
      `${CORAL}MissingRequiredParameterException`,
      'MissingParameter',
    );
  });

  it('rejects control characters and lone surrogates', async () => {
    const send = (bodyJson: string) => json('SendMessage', `{"QueueUrl":"${url}","MessageBody":${bodyJson}}`);
    expectJsonError(
      await send('"nul \\u0000 here"'),
      400,
      'InvalidMessageContents',
      'InvalidMessageContents',
      /Invalid binary character '#x0' was found in the message body/,
    );
    expectJsonError(await send('"bell \\u0007"'), 400, 'InvalidMessageContents', 'InvalidMessageContents', /'#x7'/);
    expectJsonError(
      await send('"lone \\ud800 high"'),
      400,
      'InvalidMessageContents',
      'InvalidMessageContents',
      /'#xD800'/,
    );
    expectJsonError(
      await send('"lone \\udfff low"'),
      400,
      'InvalidMessageContents',
      'InvalidMessageContents',
      /'#xDFFF'/,
    );
    expectJsonError(await send('"\\uffff"'), 400, 'InvalidMessageContents', 'InvalidMessageContents', /'#xFFFF'/);
    // a correct pair is fine
    expect((await send('"pair \\ud83d\\ude00"')).status).toBe(200);
    const attr = await json('SendMessage', {
      QueueUrl: url,
      MessageBody: 'x',
      MessageAttributes: { a: { DataType: 'String', StringValue: 'tab\tok, unit\u001fseparator not' } },
    });
    expectJsonError(attr, 400, 'InvalidMessageContents', 'InvalidMessageContents', /'#x1F'/);
    expectJsonError(
      await json('CreateQueue', '{"QueueName":"q\\u0000"}'),
      400,
      invalidParam,
      'InvalidParameterValue',
      'Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length',
    );
    expectJsonError(await json('CreateQueue', '{"QueueName":"q\\udc00"}'), 400, invalidParam, 'InvalidParameterValue');
    expectJsonError(
      await json('GetQueueUrl', '{"QueueName":"q\\ud800"}'),
      400,
      'QueueDoesNotExist',
      'AWS.SimpleQueueService.NonExistentQueue',
    );
  });

  it('keeps a map key named __proto__ as an ordinary key', async () => {
    expect((await json('TagQueue', `{"QueueUrl":"${other}","Tags":{"__proto__":"polluted","k":"v"}}`)).status).toBe(
      200,
    );
    expect(JSON.parse((await json('ListQueueTags', { QueueUrl: other })).body)).toEqual(
      JSON.parse('{"Tags":{"__proto__":"polluted","k":"v"}}'),
    );
    expect(({} as Json).polluted).toBeUndefined();
    const q = await query(form({ Action: 'ListQueueTags', QueueUrl: other }));
    expect(q.body).toContain('<Tag><Key>__proto__</Key><Value>polluted</Value></Tag>');
  });
});

describe('Query protocol', () => {
  it('answers an unknown, inherited or missing Action', async () => {
    for (const action of ['NoSuchAction', 'listQueues', 'toString', 'constructor', '__proto__', 'hasOwnProperty']) {
      expectQueryError(
        await query(`Action=${action}&Version=2012-11-05`),
        400,
        'InvalidAction',
        `The action ${action} is not valid for this endpoint.`,
      );
    }
    // no Action at all, an empty body, an empty Action
    expectQueryError(await query('QueueName=x&Version=2012-11-05'), 404, 'UnknownOperationException');
    expectQueryError(await query(''), 404, 'UnknownOperationException');
    expectQueryError(await request({}), 404, 'UnknownOperationException');
    expectQueryError(await query('Action='), 404, 'UnknownOperationException');
    expectQueryError(await request({ method: 'GET', path: '/' }), 404, 'UnknownOperationException');
  });

  it('survives malformed form encoding', async () => {
    // URL decoding keeps a malformed escape as text; it then fails validation like any bad value
    expectQueryError(
      await query('Action=CreateQueue&QueueName=%zz'),
      400,
      'InvalidParameterValue',
      'Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length',
    );
    expectQueryError(
      await query('Action=Send%zzMessage'),
      400,
      'InvalidAction',
      'The action Send%zzMessage is not valid for this endpoint.',
    );
    expectQueryError(
      await query('%%%&&&===&Action=CreateQueue'),
      400,
      'MissingParameter',
      'The request must contain the parameter QueueName.',
    );
    // a queue URL with a broken escape names no queue (it used to be an internal error)
    for (const bad of ['%zz', '%E0%A4%A', '%FF', '%']) {
      const u = `${wharf.endpoint}/000000000000/${bad}`;
      expectQueryError(
        await query(form({ Action: 'SendMessage', QueueUrl: u, MessageBody: 'x' })),
        400,
        'AWS.SimpleQueueService.NonExistentQueue',
        'The specified queue does not exist for this wsdl version.',
      );
      expectJsonError(
        await json('SendMessage', { QueueUrl: u, MessageBody: 'x' }),
        400,
        'QueueDoesNotExist',
        'AWS.SimpleQueueService.NonExistentQueue',
        'The specified queue does not exist.',
      );
    }
  });

  it('answers members of the wrong type with InvalidParameterValue', async () => {
    for (const [name, value] of [
      ['DelaySeconds', 'abc'],
      ['DelaySeconds', ''],
      ['DelaySeconds', '1e3'],
    ]) {
      const r = await query(form({ Action: 'SendMessage', QueueUrl: url, MessageBody: 'x', [name]: value }));
      expectQueryError(r, 400, 'InvalidParameterValue', new RegExp(`for parameter ${name} is invalid`));
    }
    const r = await query(form({ Action: 'ReceiveMessage', QueueUrl: url, MaxNumberOfMessages: 'ten' }));
    expectQueryError(r, 400, 'InvalidParameterValue', /for parameter MaxNumberOfMessages is invalid/);
    const huge = await query(form({ Action: 'ReceiveMessage', QueueUrl: url, MaxNumberOfMessages: '9'.repeat(400) }));
    expectQueryError(huge, 400, 'InvalidParameterValue', /for parameter MaxNumberOfMessages is invalid/);
  });

  it('serves a request posted to the queue URL without QueueUrl (Java v1 and .NET style)', async () => {
    const own = JSON.parse((await json('CreateQueue', { QueueName: 'hostile-path' })).body).QueueUrl as string;
    const path = new URL(own).pathname;
    const sent = await query('Action=SendMessage&MessageBody=via%20the%20queue%20path&Version=2012-11-05', path);
    expect(sent.status, sent.body).toBe(200);
    expect(sent.body).toContain('<MD5OfMessageBody>');
    const got = await query('Action=ReceiveMessage&VisibilityTimeout=0&Version=2012-11-05', path);
    expect(got.body).toContain('<Body>via the queue path</Body>');
    // LocalStack's path form
    const ls = await query('Action=GetQueueAttributes&AttributeName.1=QueueArn', `/queue/us-east-1${path}`);
    expect(ls.body).toContain('<Value>arn:aws:sqs:us-east-1:000000000000:hostile-path</Value>');
    // service actions do not belong on a queue URL
    expectQueryError(
      await query('Action=ListQueues', path),
      400,
      'InvalidAction',
      'The action ListQueues is not valid for this endpoint.',
    );
    expectQueryError(await query('Action=CreateQueue&QueueName=x', path), 400, 'InvalidAction');
    expectQueryError(
      await query('Action=SendMessage&MessageBody=x', '/000000000000/no-such-queue'),
      400,
      'AWS.SimpleQueueService.NonExistentQueue',
    );
    // a GET on a queue URL with no query at all
    expectQueryError(await request({ method: 'GET', path }), 404, 'UnknownOperationException');
  });

  it('serves GET requests with the parameters in the query string', async () => {
    const r = await request({ method: 'GET', path: '/?Action=GetQueueUrl&QueueName=hostile&Version=2012-11-05' });
    expect(r.status).toBe(200);
    expect(r.body).toContain(`<QueueUrl>${url}</QueueUrl>`);
    const path = new URL(url).pathname;
    const attrs = await request({
      method: 'GET',
      path: `${path}?Action=GetQueueAttributes&AttributeName.1=VisibilityTimeout`,
    });
    expect(attrs.body).toContain('<Attribute><Name>VisibilityTimeout</Name><Value>30</Value></Attribute>');
    expectQueryError(await request({ method: 'GET', path: '/?Action=Bogus' }), 400, 'InvalidAction');
  });

  it('keeps error XML well-formed when it echoes control characters', async () => {
    const r = await query(
      form({ Action: 'DeleteMessage', QueueUrl: url, ReceiptHandle: 'bad\u0001handle\u0000\uffff' }),
    );
    expectQueryError(
      r,
      404,
      'ReceiptHandleIsInvalid',
      'The input receipt handle "bad\ufffdhandle\ufffd\ufffd" is not a valid receipt handle.',
    );
    const a = await query(form({ Action: 'Bad\u0002Action' }));
    expectQueryError(a, 400, 'InvalidAction', 'The action Bad\ufffdAction is not valid for this endpoint.');
    const body = await query(form({ Action: 'SendMessage', QueueUrl: url, MessageBody: 'x\u0008y' }));
    expectQueryError(body, 400, 'InvalidMessageContents', /'#x8'/);
  });
});

describe('limits', () => {
  it.each(['json', 'query'] as const)('rejects a message of 1 MiB + 1 byte and accepts 1 MiB (%s)', async (proto) => {
    const big = JSON.parse((await json('CreateQueue', { QueueName: `big-${proto}` })).body).QueueUrl as string;
    const send = (size: number) =>
      proto === 'json'
        ? json('SendMessage', { QueueUrl: big, MessageBody: 'x'.repeat(size) })
        : query(form({ Action: 'SendMessage', QueueUrl: big, MessageBody: 'x'.repeat(size) }));
    const message = 'One or more parameters are invalid. Reason: Message must be shorter than 1048576 bytes.';
    const tooBig = await send(MIB + 1);
    if (proto === 'json') expectJsonError(tooBig, 400, invalidParam, 'InvalidParameterValue', message);
    else expectQueryError(tooBig, 400, 'InvalidParameterValue', message);
    expect((await send(MIB)).status).toBe(200);
  });

  it('rejects an oversized batch and 11 entries', async () => {
    const entries = (n: number, size = 1) =>
      Array.from({ length: n }, (_, i) => ({ Id: `e${i}`, MessageBody: 'x'.repeat(size) }));
    const tooLong = await json('SendMessageBatch', { QueueUrl: url, Entries: entries(2, 600_000) });
    expectJsonError(
      tooLong,
      400,
      'BatchRequestTooLong',
      'AWS.SimpleQueueService.BatchRequestTooLong',
      'Batch requests cannot be longer than 1048576 bytes. You have sent 1200000 bytes.',
    );
    const eleven = 'Maximum number of entries per request are 10. You have sent 11.';
    expectJsonError(
      await json('SendMessageBatch', { QueueUrl: url, Entries: entries(11) }),
      400,
      'TooManyEntriesInBatchRequest',
      'AWS.SimpleQueueService.TooManyEntriesInBatchRequest',
      eleven,
    );
    const handles = entries(11).map((e) => ({ Id: e.Id, ReceiptHandle: 'h', VisibilityTimeout: 1 }));
    expectJsonError(
      await json('DeleteMessageBatch', { QueueUrl: url, Entries: handles }),
      400,
      'TooManyEntriesInBatchRequest',
      'AWS.SimpleQueueService.TooManyEntriesInBatchRequest',
      eleven,
    );
    expectJsonError(
      await json('ChangeMessageVisibilityBatch', { QueueUrl: url, Entries: handles }),
      400,
      'TooManyEntriesInBatchRequest',
      'AWS.SimpleQueueService.TooManyEntriesInBatchRequest',
      eleven,
    );
    const q: Record<string, string> = { Action: 'SendMessageBatch', QueueUrl: url };
    for (let i = 1; i <= 11; i++)
      Object.assign(q, {
        [`SendMessageBatchRequestEntry.${i}.Id`]: `e${i}`,
        [`SendMessageBatchRequestEntry.${i}.MessageBody`]: 'x',
      });
    expectQueryError(await query(form(q)), 400, 'AWS.SimpleQueueService.TooManyEntriesInBatchRequest', eleven);
    expectJsonError(
      await json('SendMessageBatch', { QueueUrl: url, Entries: [] }),
      400,
      'EmptyBatchRequest',
      'AWS.SimpleQueueService.EmptyBatchRequest',
      'There should be at least one SendMessageBatchRequestEntry in the request.',
    );
  });

  // Before the Query decoder indexed key prefixes, each list item scanned every parameter: 80,000 batch entries
  // (7.5 MB) took minutes of CPU with the event loop blocked. Now it is linear; the timeout catches a regression.
  it('decodes huge Query parameter counts in linear time', { timeout: 20_000 }, async () => {
    const entries: string[] = ['Action=SendMessageBatch', `QueueUrl=${encodeURIComponent(url)}`];
    for (let i = 1; i <= 80_000; i++) {
      entries.push(`SendMessageBatchRequestEntry.${i}.Id=e${i}&SendMessageBatchRequestEntry.${i}.MessageBody=x`);
    }
    expectQueryError(
      await query(entries.join('&')),
      400,
      'AWS.SimpleQueueService.TooManyEntriesInBatchRequest',
      'Maximum number of entries per request are 10. You have sent 80000.',
    );

    const attrs: string[] = ['Action=SendMessage', 'MessageBody=x', `QueueUrl=${encodeURIComponent(url)}`];
    for (let i = 1; i <= 60_000; i++) {
      attrs.push(
        `MessageAttribute.${i}.Name=a${i}&MessageAttribute.${i}.Value.DataType=String&MessageAttribute.${i}.Value.StringValue=v`,
      );
    }
    expectQueryError(
      await query(attrs.join('&')),
      400,
      'InvalidParameterValue',
      'Number of message attributes [60000] exceeds the allowed maximum [10].',
    );

    const names: string[] = ['Action=GetQueueAttributes', `QueueUrl=${encodeURIComponent(url)}`];
    for (let i = 1; i <= 200_000; i++) names.push(`AttributeName.${i}=QueueArn`);
    const ok = await query(names.join('&'));
    expect(ok.status).toBe(200);
    expect(ok.body).toContain('<Name>QueueArn</Name>');
    // a single key of a million dots
    expect((await query(`Action=ListQueues&${'a.'.repeat(1_000_000)}=1`)).status).toBe(200);
  });

  it('rejects huge attribute and tag counts in JSON', async () => {
    const many = Object.fromEntries(
      Array.from({ length: 5000 }, (_, i) => [`a${i}`, { DataType: 'String', StringValue: 'v' }]),
    );
    expectJsonError(
      await json('SendMessage', { QueueUrl: url, MessageBody: 'x', MessageAttributes: many }),
      400,
      invalidParam,
      'InvalidParameterValue',
      'Number of message attributes [5000] exceeds the allowed maximum [10].',
    );
    const tags = Object.fromEntries(Array.from({ length: 10_000 }, (_, i) => [`t${i}`, 'v']));
    expectJsonError(
      await json('TagQueue', { QueueUrl: url, Tags: tags }),
      400,
      invalidParam,
      'InvalidParameterValue',
      'Too many tags added for queue hostile.',
    );
    const queueAttrs = Object.fromEntries(Array.from({ length: 10_000 }, (_, i) => [`Attr${i}`, 'v']));
    expectJsonError(
      await json('SetQueueAttributes', { QueueUrl: url, Attributes: queueAttrs }),
      400,
      'InvalidAttributeName',
      'InvalidAttributeName',
      'Unknown Attribute Attr0.',
    );
    const names = Array.from({ length: 50_000 }, (_, i) => `name${i}`);
    expect(
      (
        await json('ReceiveMessage', {
          QueueUrl: other,
          MessageAttributeNames: names,
          AttributeNames: names.slice(0, 10),
        })
      ).status,
    ).toBe(200);
  });

  it.each(['json', 'query'] as const)(
    'answers a body over the size limit with 413 and keeps serving (%s)',
    async (proto) => {
      const body = Buffer.alloc(8 * MIB + 1, 'a');
      const r = await request({
        headers:
          proto === 'json'
            ? { 'content-type': JSON_CT, 'x-amz-target': 'AmazonSQS.ListQueues' }
            : { 'content-type': FORM_CT },
        body,
      }).catch((e: Error) => e);
      // the server answers before the upload ends and closes the connection; the client may see either
      if (!(r instanceof Error)) {
        if (proto === 'json')
          expectJsonError(
            r,
            413,
            `${CORAL}RequestEntityTooLarge`,
            'RequestEntityTooLarge',
            'Request body is larger than 8388608 bytes.',
          );
        else expectQueryError(r, 413, 'RequestEntityTooLarge', 'Request body is larger than 8388608 bytes.');
        expect(r.headers.connection).toBe('close');
      } else {
        expect((r as NodeJS.ErrnoException).code).toMatch(/EPIPE|ECONNRESET/);
      }
      expect((await json('ListQueues', {})).status).toBe(200);
    },
  );
});

describe('receipt handles', () => {
  it.each(['json', 'query'] as const)(
    'rejects garbage, truncated, tampered and foreign handles (%s)',
    async (proto) => {
      const good = await receiveHandle(url);
      const foreign = await receiveHandle(other);
      const last = good.at(-1) === 'A' ? 'B' : 'A';
      const mid = Math.floor(good.length / 2);
      const bad = [
        'garbage',
        '',
        good.slice(0, -4),
        good.slice(0, -1) + last, // the MAC no longer matches
        good.slice(0, mid) + (good[mid] === 'A' ? 'B' : 'A') + good.slice(mid + 1), // the payload changed
        good + 'AAAA',
        foreign, // signed, but for another queue
        'A'.repeat(100_000),
        '\u00e9\u0301 ☃',
      ];
      for (const handle of bad) {
        const op = (name: string, extra: Json = {}) =>
          proto === 'json'
            ? json(name, { QueueUrl: url, ReceiptHandle: handle, ...extra })
            : query(form({ Action: name, QueueUrl: url, ReceiptHandle: handle, ...extra }));
        for (const r of [await op('DeleteMessage'), await op('ChangeMessageVisibility', { VisibilityTimeout: 10 })]) {
          if (handle === '') {
            if (proto === 'json')
              expectJsonError(r, 400, `${CORAL}MissingRequiredParameterException`, 'MissingParameter');
            else expectQueryError(r, 400, 'MissingParameter', 'The request must contain the parameter ReceiptHandle.');
            continue;
          }
          const message = `The input receipt handle "${handle}" is not a valid receipt handle.`;
          if (proto === 'json') expectJsonError(r, 404, 'ReceiptHandleIsInvalid', 'ReceiptHandleIsInvalid', message);
          else expectQueryError(r, 404, 'ReceiptHandleIsInvalid', message);
        }
      }
      // in a batch, each bad handle is a failed entry and the good one still succeeds
      const batch = await json('DeleteMessageBatch', {
        QueueUrl: url,
        Entries: [
          { Id: 'good', ReceiptHandle: good },
          { Id: 'garbage', ReceiptHandle: 'garbage' },
          { Id: 'foreign', ReceiptHandle: foreign },
        ],
      });
      const out = JSON.parse(batch.body) as Json;
      expect(out.Successful).toEqual([{ Id: 'good' }]);
      expect(out.Failed.map((f: Json) => [f.Id, f.Code, f.SenderFault])).toEqual([
        ['garbage', 'ReceiptHandleIsInvalid', true],
        ['foreign', 'ReceiptHandleIsInvalid', true],
      ]);
      expect((await json('DeleteMessage', { QueueUrl: other, ReceiptHandle: foreign })).status).toBe(200);
    },
  );
});

describe('transport', () => {
  it('speaks HTTP/2 with prior knowledge, errors included', async () => {
    const session = http2.connect(wharf.endpoint);
    session.on('error', () => {});
    const h2 = (headers: http2.OutgoingHttpHeaders, body?: string | Buffer) =>
      new Promise<{ status: number; headers: http2.IncomingHttpHeaders; body: string }>((resolve, reject) => {
        const stream = session.request({ ':method': 'POST', ':path': '/', ...headers });
        let res: http2.IncomingHttpHeaders = {};
        const chunks: Buffer[] = [];
        stream.on('response', (h) => (res = h));
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => {
          const r = { status: Number(res[':status']), headers: res, body: Buffer.concat(chunks).toString() };
          checkEnvelope(r);
          resolve(r);
        });
        stream.on('error', reject);
        stream.end(body);
      });
    try {
      const ok = await h2(
        { 'content-type': JSON_CT, 'x-amz-target': 'AmazonSQS.GetQueueUrl' },
        '{"QueueName":"hostile"}',
      );
      expect(ok.status).toBe(200);
      expect(JSON.parse(ok.body).QueueUrl).toBe(url);
      const bad = await h2({ 'content-type': JSON_CT, 'x-amz-target': 'AmazonSQS.GetQueueUrl' }, '{"QueueName":');
      expect(bad.status).toBe(400);
      expect(JSON.parse(bad.body).__type).toBe(`${CORAL}SerializationException`);
      const unknown = await h2({ 'content-type': JSON_CT, 'x-amz-target': 'AmazonSQS.constructor' }, '{}');
      expect(unknown.status).toBe(400);
      expect(unknown.headers['x-amzn-query-error']).toBe('UnknownOperationException;Sender');
      const get = await h2({ ':method': 'GET', ':path': '/?Action=ListQueues&QueueNamePrefix=hostile' });
      expect(get.status).toBe(200);
      expect(get.body).toContain(`<QueueUrl>${url}</QueueUrl>`);
      const action = await h2({ 'content-type': FORM_CT }, 'Action=Nope');
      expect(action.status).toBe(400);
      expect(action.body).toContain('<Code>InvalidAction</Code>');
      const big = await h2(
        { 'content-type': JSON_CT, 'x-amz-target': 'AmazonSQS.ListQueues' },
        Buffer.alloc(8 * MIB + 1, 32),
      );
      expect(big.status).toBe(413);
      expect(JSON.parse(big.body).__type).toBe(`${CORAL}RequestEntityTooLarge`);
      // the session is still good
      expect((await h2({ 'content-type': JSON_CT, 'x-amz-target': 'AmazonSQS.ListQueues' }, '{}')).status).toBe(200);
    } finally {
      await new Promise<void>((resolve) => session.close(resolve));
    }
  });

  it('survives garbage on the socket and clients that hang up mid-request', async () => {
    const { port } = wharf;
    const exchange = (bytes: string | Buffer) =>
      new Promise<string>((resolve) => {
        const s = net.connect(port, '127.0.0.1');
        const chunks: Buffer[] = [];
        s.on('data', (c: Buffer) => chunks.push(c));
        s.on('error', () => {});
        s.on('close', () => resolve(Buffer.concat(chunks).toString('latin1')));
        s.end(bytes);
      });
    expect(await exchange('GARBAGE\r\n\r\n')).toMatch(/^HTTP\/1\.1 400 Bad Request/);
    expect(await exchange(Buffer.from([0, 1, 2, 3, 255, 254, 13, 10, 13, 10]))).toMatch(/^HTTP\/1\.1 400/);
    // an HTTP/2 preface followed by garbage frames
    await exchange(Buffer.concat([Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'), Buffer.alloc(64, 0xff)]));
    // a body shorter than its Content-Length, then the client hangs up
    await new Promise<void>((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => {
        s.write(
          'POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-amz-json-1.0\r\n' +
            'X-Amz-Target: AmazonSQS.ListQueues\r\nContent-Length: 1000\r\n\r\n{"Queue',
          () => s.destroy(),
        );
      });
      s.on('error', () => {});
      s.on('close', () => resolve());
    });
    // a long poll whose client goes away: the server lets go of it at once
    const aborted = new AbortController();
    const poll = fetch(wharf.endpoint, {
      method: 'POST',
      headers: { 'content-type': JSON_CT, 'x-amz-target': 'AmazonSQS.ReceiveMessage' },
      body: JSON.stringify({ QueueUrl: other, WaitTimeSeconds: 20 }),
      signal: aborted.signal,
    }).catch((e: Error) => e);
    await vi.waitFor(() => expect(wharf.services.sqs.longPoll.waiting()).toBe(1), { timeout: 5000, interval: 5 });
    aborted.abort();
    expect(await poll).toBeInstanceOf(Error);
    await vi.waitFor(() => expect(wharf.services.sqs.longPoll.waiting()).toBe(0), { timeout: 5000, interval: 5 });
    expect((await json('ListQueues', {})).status).toBe(200);
  });
});

describe('afterwards', () => {
  it('still answers /_wharf/health', async () => {
    const r = await fetch(`${wharf.endpoint}/_wharf/health`);
    expect(r.status).toBe(200);
    expect(r.headers.get('x-amzn-requestid')).toMatch(UUID);
    expect(await r.json()).toMatchObject({ status: 'ok' });
  });
});
