import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { loadModel } from '../../src/protocol/model.js';

describe('generated models', () => {
  it('match models/botocore and the pinned SDK schemas (run npm run gen:models after taking either)', () => {
    // exits non-zero and names the file when the committed output drifts
    expect(() =>
      execFileSync(process.execPath, ['scripts/gen-models.mjs', '--check'], { stdio: 'pipe' }),
    ).not.toThrow();
  });

  it('list required members, in the order the service declares them', () => {
    const m = loadModel('sqs');
    const send = m.shapes.SendMessageRequest;
    if (send.type !== 'structure') throw new Error('not a structure');
    const required = Object.entries(send.members)
      .filter(([, v]) => v.required)
      .map(([k]) => k);
    expect(required).toEqual(['QueueUrl', 'MessageBody']);
    expect(Object.keys(m.operations)).toHaveLength(23);
  });

  it('carry the Query names and codes of SQS members (from the SDK: botocore has only the JSON model)', () => {
    const m = loadModel('sqs');
    const recv = m.shapes.ReceiveMessageRequest;
    const send = m.shapes.SendMessageBatchRequest;
    if (recv.type !== 'structure' || send.type !== 'structure') throw new Error('not a structure');
    expect(recv.members.AttributeNames).toMatchObject({ xmlName: 'AttributeName', flattened: true });
    expect(recv.members.MessageAttributeNames).toMatchObject({ xmlName: 'MessageAttributeName', flattened: true });
    expect(send.members.Entries).toMatchObject({ xmlName: 'SendMessageBatchRequestEntry', flattened: true });
    expect(m.shapes.MessageBodyAttributeMap).toMatchObject({ keyName: 'Name', valueName: 'Value' });
    expect(m.errors.QueueDoesNotExist).toEqual({
      code: 'AWS.SimpleQueueService.NonExistentQueue',
      status: 400,
      fault: 'client',
    });
  });

  it('carry the constraints botocore gives each member, list and map', () => {
    const k = loadModel('kinesis');
    const put = k.shapes.PutRecordsInput;
    const entry = k.shapes.PutRecordsRequestEntry;
    if (put.type !== 'structure' || entry.type !== 'structure') throw new Error('not a structure');
    expect(put.members.StreamName).toMatchObject({
      target: 'string',
      rules: { min: 1, max: 128, pattern: '[a-zA-Z0-9_.-]+' },
    });
    expect(k.shapes[put.members.Records.target]).toMatchObject({ type: 'list', rules: { min: 1, max: 500 } });
    expect(entry.members.PartitionKey).toMatchObject({ required: true, rules: { min: 1, max: 256 } });
    expect(entry.members.Data).toMatchObject({ target: 'blob', required: true, rules: { min: 0, max: 10485760 } });
    const desc = k.shapes.DescribeStreamInput;
    if (desc.type !== 'structure') throw new Error('not a structure');
    expect(desc.members.Limit).toMatchObject({
      target: 'number',
      numberType: 'integer',
      rules: { min: 1, max: 10000 },
    });
    const iter = k.shapes.GetShardIteratorInput;
    if (iter.type !== 'structure') throw new Error('not a structure');
    expect(iter.members.ShardIteratorType.rules?.enum).toContain('TRIM_HORIZON');
    expect(k.errors.InternalFailureException).toEqual({
      code: 'InternalFailureException',
      status: 500,
      fault: 'server',
    });
    expect(k.operations.ListStreams.paginator).toMatchObject({ inputToken: 'NextToken', limitKey: 'Limit' });
  });

  it('carry the rest-json HTTP bindings of Lambda', () => {
    const l = loadModel('lambda');
    expect(l.service).toMatchObject({ protocol: 'restJson1', signingName: 'lambda', version: '2015-03-31' });
    expect(l.operations.Invoke.http).toMatchObject({
      method: 'POST',
      requestUri: '/2015-03-31/functions/{FunctionName}/invocations',
    });
    expect(l.operations.CreateEventSourceMapping.http).toMatchObject({ method: 'POST', responseCode: 202 });
    const invoke = l.shapes.InvocationRequest;
    if (invoke.type !== 'structure') throw new Error('not a structure');
    expect(invoke.payload).toBe('Payload');
    expect(invoke.members.FunctionName).toMatchObject({
      location: 'uri',
      locationName: 'FunctionName',
      required: true,
    });
    expect(invoke.members.InvocationType).toMatchObject({ location: 'header', locationName: 'X-Amz-Invocation-Type' });
    const prefixes = new Set(Object.values(l.operations).map((o) => o.http?.requestUri.split('/')[1]));
    expect(prefixes.size).toBeGreaterThan(10);
  });
});
