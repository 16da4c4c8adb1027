/**
 * The generic Coral validator against the real models. The expected messages are the ones AWS
 * Kinesis sends (as recorded by kinesalite's tests against the live service) and STS's.
 */
import { describe, expect, it } from 'vitest';
import { loadModel } from '../../src/protocol/model.js';
import { validateInput } from '../../src/protocol/validate.js';
import { validationMessage } from '../../src/kernel/coral.js';

const kinesis = loadModel('kinesis');
const events = loadModel('events');
const lambda = loadModel('lambda');
const message = (model = kinesis, shape: string, input: Record<string, unknown>) =>
  validationMessage(validateInput(model, shape, input));

describe('the Coral validator', () => {
  it('passes a valid input', () => {
    expect(
      validateInput(kinesis, 'PutRecordInput', { StreamName: 's', Data: Buffer.from('x'), PartitionKey: 'p' }),
    ).toEqual([]);
  });

  it('reports missing required members as null, in declaration order', () => {
    expect(message(kinesis, 'PutRecordsInput', {})).toBe(
      "1 validation error detected: Value null at 'records' failed to satisfy constraint: Member must not be null",
    );
  });

  it('reports a pattern before the lengths of the same member, and lists', () => {
    expect(message(kinesis, 'PutRecordsInput', { StreamName: '', Records: [] })).toBe(
      "3 validation errors detected: Value '[]' at 'records' failed to satisfy constraint: Member must have length greater than or equal to 1; " +
        "Value '' at 'streamName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+; " +
        "Value '' at 'streamName' failed to satisfy constraint: Member must have length greater than or equal to 1",
    );
  });

  it('writes list element paths 1-based with .member, blobs as Java buffers, long values in full', () => {
    const name = 'a'.repeat(129);
    const key = 'k'.repeat(257);
    const v = validateInput(kinesis, 'PutRecordsInput', {
      StreamName: name,
      Records: [{ PartitionKey: key, Data: Buffer.alloc(10485761), ExplicitHashKey: '' }],
    });
    expect(v.map((x) => `${x.path}: ${x.constraint}`)).toEqual([
      'records.1.member.data: Member must have length less than or equal to 10485760',
      'records.1.member.explicitHashKey: Member must satisfy regular expression pattern: 0|([1-9]\\d{0,38})',
      'records.1.member.partitionKey: Member must have length less than or equal to 256',
      'streamName: Member must have length less than or equal to 128',
    ]);
    expect(v[0].value).toBe('java.nio.HeapByteBuffer[pos=0 lim=10485761 cap=10485761]');
    expect(v[2].value).toBe(key);
  });

  it('lists at most ten violations, and counts the ten', () => {
    const records = Array.from({ length: 501 }, () => ({ PartitionKey: '', Data: Buffer.alloc(0) }));
    const text = message(kinesis, 'PutRecordsInput', { StreamName: 's', Records: records });
    expect(
      text.startsWith("10 validation errors detected: Value '[com.amazonaws.kinesis.v20131202.PutRecordsRequestEntry@"),
    ).toBe(true);
    expect(text).toContain(
      "at 'records' failed to satisfy constraint: Member must have length less than or equal to 500",
    );
    expect(text).toContain("Value '' at 'records.9.member.partitionKey'");
    expect(text).not.toContain('records.10.member');
    expect(text.split('; ')).toHaveLength(10);
  });

  it('checks numbers by value and strings against their enum', () => {
    expect(
      message(kinesis, 'GetShardIteratorInput', {
        StreamName: 's',
        ShardId: 'shardId-000000000000',
        ShardIteratorType: 'NEWEST',
      }),
    ).toBe(
      "1 validation error detected: Value 'NEWEST' at 'shardIteratorType' failed to satisfy constraint: " +
        'Member must satisfy enum value set: [AT_SEQUENCE_NUMBER, AFTER_SEQUENCE_NUMBER, TRIM_HORIZON, LATEST, AT_TIMESTAMP]',
    );
    expect(message(kinesis, 'GetRecordsInput', { ShardIterator: 'x', Limit: 0 })).toBe(
      "1 validation error detected: Value '0' at 'limit' failed to satisfy constraint: Member must have value greater than or equal to 1",
    );
  });

  it('walks nested structures', () => {
    expect(message(kinesis, 'CreateStreamInput', { StreamName: 's', StreamModeDetails: {} })).toBe(
      "1 validation error detected: Value null at 'streamModeDetails.streamMode' failed to satisfy constraint: Member must not be null",
    );
  });

  it('reports the constraints of map keys and values, and of list elements, at the map or list', () => {
    const tags = { ['k'.repeat(129)]: 'v' };
    expect(message(kinesis, 'AddTagsToStreamInput', { StreamName: 's', Tags: tags })).toBe(
      `1 validation error detected: Value '{${'k'.repeat(129)}=v}' at 'tags' failed to satisfy constraint: ` +
        'Map keys must satisfy constraint: [Member must have length less than or equal to 128, Member must have length greater than or equal to 1]',
    );
    expect(message(kinesis, 'RemoveTagsFromStreamInput', { StreamName: 's', TagKeys: ['a', ''] })).toBe(
      "1 validation error detected: Value '[a, ]' at 'tagKeys' failed to satisfy constraint: " +
        'Member must satisfy constraint: [Member must have length less than or equal to 128, Member must have length greater than or equal to 1]',
    );
  });

  it('reads the EventBridge and Lambda models too', () => {
    expect(message(events, 'PutEventsRequest', { Entries: [] })).toBe(
      "1 validation error detected: Value '[]' at 'entries' failed to satisfy constraint: Member must have length greater than or equal to 1",
    );
    const v = validateInput(lambda, 'InvocationRequest', { FunctionName: '' });
    expect(v.map((x) => x.constraint)).toContain('Member must have length greater than or equal to 1');
  });
});
