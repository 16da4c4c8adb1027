import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { loadModel } from '../../src/protocol/model.js';

describe('generated models', () => {
  it('match the pinned @aws-sdk/client-* schemas (run npm run gen:models after an SDK bump)', () => {
    // exits non-zero and names the file when the committed output drifts
    expect(() =>
      execFileSync(process.execPath, ['scripts/gen-models.mjs', '--check'], { stdio: 'pipe' }),
    ).not.toThrow();
  });

  it('read required members from the schema tuple layout the generator relies on', () => {
    const m = loadModel('sqs');
    const send = m.shapes.SendMessageRequest;
    if (send.type !== 'structure') throw new Error('not a structure');
    const required = Object.entries(send.members)
      .filter(([, v]) => v.required)
      .map(([k]) => k);
    expect(required).toEqual(['QueueUrl', 'MessageBody']);
    expect(Object.keys(m.operations)).toHaveLength(23);
  });

  it('carry the Query names of SQS members (botocore 1.29 Query model)', () => {
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
});
