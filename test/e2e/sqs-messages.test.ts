/**
 * Messages end to end, on both protocols and both queue types: SendMessage(Batch) with every
 * attribute type and the documented limits, ReceiveMessage options, DeleteMessage(Batch),
 * ChangeMessageVisibility(Batch), visibility and retention expiry on a ManualClock, and the
 * move to a dead-letter queue after maxReceiveCount.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { arnOfUrl, awsError, counts, createQueue, fifoFields, nameOf, useWharf, VARIANTS } from '../helpers/sqs-e2e.js';

interface AttrValue {
  DataType: string;
  StringValue?: string;
  BinaryValue?: Uint8Array;
}
interface Msg {
  MessageId: string;
  ReceiptHandle: string;
  Body: string;
  MD5OfBody: string;
  Attributes?: Record<string, string>;
  MessageAttributes?: Record<string, AttrValue>;
  MD5OfMessageAttributes?: string;
}

const md5 = (b: string | Buffer) => createHash('md5').update(b).digest('hex');

/** The attribute digest every SDK implements, written out independently of the server's. */
function md5OfAttributes(attrs: Record<string, AttrValue>): string {
  const parts: Buffer[] = [];
  const field = (b: Buffer) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(b.length);
    parts.push(len, b);
  };
  for (const name of Object.keys(attrs).sort()) {
    const v = attrs[name];
    field(Buffer.from(name));
    field(Buffer.from(v.DataType));
    if (v.BinaryValue !== undefined) {
      parts.push(Buffer.from([2]));
      field(Buffer.from(v.BinaryValue));
    } else {
      parts.push(Buffer.from([1]));
      field(Buffer.from(v.StringValue ?? ''));
    }
  }
  return md5(Buffer.concat(parts));
}

const LIMIT = 1_048_576;

describe.each(VARIANTS)('SQS messages ($label)', ({ proto, fifo }) => {
  const env = useWharf(proto);
  const json = proto === 'json';
  const newQueue = (attributes: Record<string, string> = {}) => createQueue(env.sqs, 'msg', fifo, attributes);
  let group = 0;
  /** FIFO: every message in its own group unless told otherwise, so receives are not held by group order. */
  const send = (QueueUrl: string, MessageBody: string, extra: Record<string, unknown> = {}) =>
    env.sqs.call('SendMessage', {
      QueueUrl,
      MessageBody,
      ...(fifo ? fifoFields(fifo, { MessageGroupId: `g${++group}`, ...extra }) : extra),
    });
  const receive = async (QueueUrl: string, extra: Record<string, unknown> = {}): Promise<Msg[]> =>
    ((await env.sqs.call('ReceiveMessage', { QueueUrl, ...extra })).Messages ?? []) as Msg[];

  describe('SendMessage', () => {
    it('round-trips every attribute type with matching MD5s', async () => {
      const { sqs } = env;
      const QueueUrl = await newQueue();
      const MessageAttributes: Record<string, AttrValue> = {
        str: { DataType: 'String', StringValue: 'text ☃ <&>' },
        num: { DataType: 'Number', StringValue: '-12.5e3' },
        bin: { DataType: 'Binary', BinaryValue: Buffer.from([0, 1, 2, 255]) },
        'custom.str': { DataType: 'String.custom', StringValue: 'x' },
        'custom.num': { DataType: 'Number.float', StringValue: '0230.01' },
        'custom.bin': { DataType: 'Binary.png', BinaryValue: Buffer.from('png') },
      };
      const sent = await sqs.call('SendMessage', {
        QueueUrl,
        MessageBody: 'derp',
        MessageAttributes,
        ...fifoFields(fifo),
      });
      expect(sent.MD5OfMessageBody).toBe('58fd9edd83341c29f1aebba81c31e257');
      expect(sent.MD5OfMessageAttributes).toBe(md5OfAttributes(MessageAttributes));
      expect(sent.MessageId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
      if (fifo) expect(sent.SequenceNumber).toMatch(/^\d{20}$/);
      else expect(sent.SequenceNumber).toBeUndefined();

      const [m] = await receive(QueueUrl, { MessageAttributeNames: ['All'] });
      expect(m.MessageId).toBe(sent.MessageId);
      expect(m.Body).toBe('derp');
      expect(m.MD5OfBody).toBe('58fd9edd83341c29f1aebba81c31e257');
      expect(m.MD5OfMessageAttributes).toBe(sent.MD5OfMessageAttributes);
      expect(Object.keys(m.MessageAttributes!).sort()).toEqual(Object.keys(MessageAttributes).sort());
      for (const [k, v] of Object.entries(MessageAttributes)) {
        const got = m.MessageAttributes![k];
        expect(got.DataType).toBe(v.DataType);
        if (v.BinaryValue) expect(Buffer.from(got.BinaryValue!)).toEqual(Buffer.from(v.BinaryValue));
        else expect(got.StringValue).toBe(v.StringValue);
      }
    });

    it('matches the published attribute digest vector', async () => {
      const QueueUrl = await newQueue();
      const sent = await env.sqs.call('SendMessage', {
        QueueUrl,
        MessageBody: 'x',
        MessageAttributes: { timestamp: { DataType: 'Number', StringValue: '1493147359900' } },
        ...fifoFields(fifo),
      });
      expect(sent.MD5OfMessageAttributes).toBe('235c5c510d26fb653d073faed50ae77c');
    });

    it('carries the AWSTraceHeader system attribute', async () => {
      const { sqs } = env;
      const QueueUrl = await newQueue();
      const trace = 'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1';
      const MessageSystemAttributes = { AWSTraceHeader: { DataType: 'String', StringValue: trace } };
      const sent = await sqs.call('SendMessage', {
        QueueUrl,
        MessageBody: 'traced',
        MessageSystemAttributes,
        ...fifoFields(fifo),
      });
      expect(sent.MD5OfMessageSystemAttributes).toBe(md5OfAttributes(MessageSystemAttributes));
      expect(sent.MD5OfMessageAttributes).toBeUndefined();
      const [m] = await receive(QueueUrl, { AttributeNames: ['AWSTraceHeader'] });
      expect(m.Attributes).toEqual({ AWSTraceHeader: trace });
      // system attributes are not message attributes
      expect(m.MessageAttributes).toBeUndefined();

      const bad = await awsError(
        sqs.call('SendMessage', {
          QueueUrl,
          MessageBody: 'x',
          MessageSystemAttributes: { Foo: { DataType: 'String', StringValue: 'v' } },
          ...fifoFields(fifo),
        }),
        'InvalidParameterValue',
        proto,
      );
      expect(bad.message).toBe("Message system attribute name 'Foo' is invalid.");
    });

    it('accepts a body of exactly MaximumMessageSize bytes and refuses one byte more', async () => {
      const QueueUrl = await newQueue();
      // multi-byte characters: the limit is in UTF-8 bytes
      const body = '☃'.repeat((LIMIT - 1) / 3) + 'a';
      expect(Buffer.byteLength(body)).toBe(LIMIT);
      const sent = await send(QueueUrl, body);
      expect(sent.MD5OfMessageBody).toBe(md5(body));
      const [m] = await receive(QueueUrl);
      expect(m.Body).toBe(body);
      const err = await awsError(send(QueueUrl, body + 'a'), 'InvalidParameterValue', proto);
      expect(err.message).toBe(
        'One or more parameters are invalid. Reason: Message must be shorter than 1048576 bytes.',
      );
      if (json) expect(err.Code).toBe('InvalidParameterValue');
    });

    it('counts attribute names, types and values towards the size and honours MaximumMessageSize', async () => {
      const QueueUrl = await newQueue({ MaximumMessageSize: '1024' });
      const MessageAttributes = { name: { DataType: 'String', StringValue: 'value' } }; // 4 + 6 + 5 bytes
      await send(QueueUrl, 'x'.repeat(1024 - 15), { MessageAttributes });
      const err = await awsError(
        send(QueueUrl, 'x'.repeat(1024 - 14), { MessageAttributes }),
        'InvalidParameterValue',
        proto,
      );
      expect(err.message).toBe('One or more parameters are invalid. Reason: Message must be shorter than 1024 bytes.');
      await send(QueueUrl, 'y'.repeat(1024));
      await awsError(send(QueueUrl, 'y'.repeat(1025)), 'InvalidParameterValue', proto);
    });

    it('refuses characters outside the XML character set', async () => {
      const QueueUrl = await newQueue();
      const allowed =
        'the set of allowed characters is #x9 | #xA | #xD | [#x20-#xD7FF] | [#xE000-#xFFFD] | [#x10000-#x10FFFF].';
      for (const [body, code] of [
        ['bad \uFFFF', '#xFFFF'],
        ['nul \u0000', '#x0'],
        ['bell \u0007', '#x7'],
      ]) {
        const err = await awsError(send(QueueUrl, body), 'InvalidMessageContents', proto);
        expect(err.message).toBe(`Invalid binary character '${code}' was found in the message body, ${allowed}`);
        if (json) expect(err.Code).toBe('InvalidMessageContents');
      }
      // the edges of the allowed ranges are fine
      const ok = '\t\n\r \uD7FF\uE000\uFFFD😀';
      await send(QueueUrl, ok);
      expect((await receive(QueueUrl))[0].Body).toBe(ok);
    });

    it('validates the body, DelaySeconds and message attributes', async () => {
      const QueueUrl = await newQueue();
      const empty = await awsError(send(QueueUrl, ''), 'MissingParameter', proto);
      expect(empty.message).toBe('The request must contain the parameter MessageBody.');

      const delay = await awsError(send(QueueUrl, 'x', { DelaySeconds: 901 }), 'InvalidParameterValue', proto);
      expect(delay.message).toBe(
        'Value 901 for parameter DelaySeconds is invalid. Reason: DelaySeconds must be >= 0 and <= 900.',
      );

      const attr = (MessageAttributes: unknown) => send(QueueUrl, 'x', { MessageAttributes });
      const cases: [unknown, string][] = [
        [
          { s: { DataType: 'String', StringValue: '' } },
          "Message (user) attribute 's' must contain a non-empty value of type 'String'.",
        ],
        [
          { n: { DataType: 'Number', StringValue: 'abc' } },
          "Can't cast the value of message (user) attribute 'n' to a number.",
        ],
        [
          { t: { DataType: 'Text', StringValue: 'v' } },
          "The type of message (user) attribute 't' is invalid. You must use only the following supported type prefixes: Binary, Number, String.",
        ],
        [
          { 'AWS.x': { DataType: 'String', StringValue: 'v' } },
          "You can't use message attribute names beginning with 'AWS.' or 'Amazon'. These strings are reserved for internal use.",
        ],
        [
          Object.fromEntries(Array.from({ length: 11 }, (_, i) => [`a${i}`, { DataType: 'String', StringValue: 'v' }])),
          'Number of message attributes [11] exceeds the allowed maximum [10].',
        ],
        [
          { l: { DataType: 'String', StringListValues: ['a'] } },
          'Message attribute list values in SendMessage operation are not supported.',
        ],
        [
          { ['n'.repeat(257)]: { DataType: 'String', StringValue: 'v' } },
          'Message (user) attribute name must be shorter than 256 bytes.',
        ],
      ];
      for (const [MessageAttributes, message] of cases) {
        const err = await awsError(attr(MessageAttributes), 'InvalidParameterValue', proto);
        expect(err.message).toBe(message);
      }
      for (const name of ['.lead', 'trail.', 'dou..ble', 'bang!']) {
        const err = await awsError(
          attr({ [name]: { DataType: 'String', StringValue: 'v' } }),
          'InvalidParameterValue',
          proto,
        );
        expect(err.message).toContain('Invalid');
      }
      // ten attributes are fine
      await attr(
        Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`a${i}`, { DataType: 'String', StringValue: 'v' }])),
      );
    });

    it('delays messages per message (standard) or refuses a per-message delay (FIFO)', async () => {
      const { sqs, clock } = env;
      const QueueUrl = await newQueue();
      if (fifo) {
        const err = await awsError(send(QueueUrl, 'x', { DelaySeconds: 5 }), 'InvalidParameterValue', proto);
        expect(err.message).toBe(
          'Value 5 for parameter DelaySeconds is invalid. Reason: The request include parameter that is not valid for this queue type.',
        );
        await send(QueueUrl, 'zero delay is fine', { DelaySeconds: 0 });
        expect(await receive(QueueUrl)).toHaveLength(1);
        return;
      }
      await send(QueueUrl, 'later', { DelaySeconds: 5 });
      expect(await counts(sqs, QueueUrl)).toEqual([0, 0, 1]);
      expect(await receive(QueueUrl)).toEqual([]);
      clock.advance(4999);
      expect(await receive(QueueUrl)).toEqual([]);
      clock.advance(1);
      expect(await counts(sqs, QueueUrl)).toEqual([1, 0, 0]);
      expect((await receive(QueueUrl)).map((m) => m.Body)).toEqual(['later']);
    });

    it('applies the queue DelaySeconds to every message', async () => {
      const { sqs, clock } = env;
      const QueueUrl = await newQueue({ DelaySeconds: '10' });
      await send(QueueUrl, 'queue-delayed');
      expect(await counts(sqs, QueueUrl)).toEqual([0, 0, 1]);
      clock.advance(9999);
      expect(await receive(QueueUrl)).toEqual([]);
      clock.advance(1);
      expect(await receive(QueueUrl)).toHaveLength(1);
    });
  });

  describe('SendMessageBatch', () => {
    it('sends up to ten entries and reports per-entry failures', async () => {
      const { sqs } = env;
      const QueueUrl = await newQueue({ MaximumMessageSize: '1024' });
      const entry = (Id: string, MessageBody: string, extra: Record<string, unknown> = {}) => ({
        Id,
        MessageBody,
        ...(fifo ? fifoFields(fifo, { MessageGroupId: `b${Id}`, ...extra }) : extra),
      });
      const attrs = { a: { DataType: 'String', StringValue: 'v' } };
      const r = await sqs.call('SendMessageBatch', {
        QueueUrl,
        Entries: [
          entry('ok1', 'one', { MessageAttributes: attrs }),
          entry('bad_char', 'bad \u0000'),
          entry('too-big', 'x'.repeat(1025)),
          entry('ok2', 'two'),
          entry('empty', ''),
          entry('delay', 'd', { DelaySeconds: fifo ? 3 : 901 }),
        ],
      });
      expect(r.Successful.map((s: { Id: string }) => s.Id)).toEqual(['ok1', 'ok2']);
      const [ok1] = r.Successful;
      expect(ok1.MD5OfMessageBody).toBe(md5('one'));
      expect(ok1.MD5OfMessageAttributes).toBe(md5OfAttributes(attrs));
      expect(ok1.MessageId).toMatch(/^[0-9a-f-]{36}$/);
      if (fifo) expect(Number(r.Successful[1].SequenceNumber)).toBeGreaterThan(Number(ok1.SequenceNumber));
      const failed = Object.fromEntries(
        r.Failed.map((f: { Id: string; Code: string; SenderFault: boolean; Message: string }) => [f.Id, f]),
      );
      expect(Object.keys(failed).sort()).toEqual(['bad_char', 'delay', 'empty', 'too-big']);
      expect(failed.bad_char).toMatchObject({ Code: 'InvalidMessageContents', SenderFault: true });
      expect(failed['too-big']).toMatchObject({
        Code: 'InvalidParameterValue',
        SenderFault: true,
        Message: 'One or more parameters are invalid. Reason: Message must be shorter than 1024 bytes.',
      });
      expect(failed.empty).toMatchObject({
        Code: 'MissingParameter',
        SenderFault: true,
        Message: 'The request must contain the parameter SendMessageBatchRequestEntry.5.MessageBody.',
      });
      expect(failed.delay).toMatchObject({ Code: 'InvalidParameterValue', SenderFault: true });
      expect((await receive(QueueUrl, { MaxNumberOfMessages: 10 })).map((m) => m.Body).sort()).toEqual(['one', 'two']);
    });

    it('enforces the batch limits', async () => {
      const { sqs } = env;
      const QueueUrl = await newQueue();
      const entries = (n: number, body = 'x') =>
        Array.from({ length: n }, (_, i) => ({ Id: `e${i}`, MessageBody: body, ...fifoFields(fifo) }));
      const empty = await awsError(sqs.call('SendMessageBatch', { QueueUrl, Entries: [] }), 'EmptyBatchRequest', proto);
      expect(empty.message).toBe('There should be at least one SendMessageBatchRequestEntry in the request.');
      if (json) expect(empty.Code).toBe('AWS.SimpleQueueService.EmptyBatchRequest');
      const many = await awsError(
        sqs.call('SendMessageBatch', { QueueUrl, Entries: entries(11) }),
        'TooManyEntriesInBatchRequest',
        proto,
      );
      expect(many.message).toBe('Maximum number of entries per request are 10. You have sent 11.');
      if (json) expect(many.Code).toBe('AWS.SimpleQueueService.TooManyEntriesInBatchRequest');
      const dup = await awsError(
        sqs.call('SendMessageBatch', {
          QueueUrl,
          Entries: [
            { Id: 'same', MessageBody: 'a', ...fifoFields(fifo) },
            { Id: 'same', MessageBody: 'b', ...fifoFields(fifo) },
          ],
        }),
        'BatchEntryIdsNotDistinct',
        proto,
      );
      expect(dup.message).toBe('Id same repeated.');
      for (const Id of ['a:b', 'x'.repeat(81), 'sp ace']) {
        const err = await awsError(
          sqs.call('SendMessageBatch', { QueueUrl, Entries: [{ Id, MessageBody: 'a', ...fifoFields(fifo) }] }),
          'InvalidBatchEntryId',
          proto,
        );
        expect(err.message).toBe(
          'A batch entry id can only contain alphanumeric characters, hyphens and underscores. It can be at most 80 letters long.',
        );
      }
      const noId = await awsError(
        sqs.call('SendMessageBatch', {
          QueueUrl,
          Entries: [
            { Id: 'first', MessageBody: 'a', ...fifoFields(fifo) },
            { MessageBody: 'b', ...fifoFields(fifo) },
          ],
        }),
        'MissingParameter',
        proto,
      );
      expect(noId.message).toBe('The request must contain the parameter SendMessageBatchRequestEntry.2.Id.');
      // the whole batch counts against the 1 MiB service limit, not the queue's MaximumMessageSize
      const half = 'h'.repeat(LIMIT / 2);
      await sqs.call('SendMessageBatch', { QueueUrl, Entries: entries(2, half) });
      const long = await awsError(
        sqs.call('SendMessageBatch', { QueueUrl, Entries: entries(2, half + 'x') }),
        'BatchRequestTooLong',
        proto,
      );
      expect(long.message).toBe(
        `Batch requests cannot be longer than ${LIMIT} bytes. You have sent ${LIMIT + 2} bytes.`,
      );
      // ten entries are fine
      const ten = await sqs.call('SendMessageBatch', { QueueUrl, Entries: entries(10) });
      expect(ten.Successful).toHaveLength(10);
      expect(ten.Failed ?? []).toEqual([]);
    });

    it(
      fifo ? 'fails the whole FIFO batch without a group or deduplication id' : 'refuses a deduplication id per entry',
      async () => {
        const { sqs } = env;
        if (!fifo) {
          const QueueUrl = await newQueue();
          const r = await sqs.call('SendMessageBatch', {
            QueueUrl,
            Entries: [
              { Id: 'a', MessageBody: 'a', MessageDeduplicationId: 'd' },
              { Id: 'b', MessageBody: 'b' },
            ],
          });
          expect(r.Successful.map((s: { Id: string }) => s.Id)).toEqual(['b']);
          expect(r.Failed).toEqual([
            {
              Id: 'a',
              SenderFault: true,
              Code: 'InvalidParameterValue',
              Message: 'The request include parameter that is not valid for this queue type',
            },
          ]);
          return;
        }
        const QueueUrl = await newQueue({ ContentBasedDeduplication: 'false' });
        const noGroup = await awsError(
          sqs.call('SendMessageBatch', {
            QueueUrl,
            Entries: [
              { Id: 'a', MessageBody: 'a', MessageGroupId: 'g', MessageDeduplicationId: 'd1' },
              { Id: 'b', MessageBody: 'b', MessageDeduplicationId: 'd2' },
            ],
          }),
          'InvalidParameterValue',
          proto,
        );
        expect(noGroup.message).toBe('The request must contain the parameter MessageGroupId.');
        const noDedup = await awsError(
          sqs.call('SendMessageBatch', {
            QueueUrl,
            Entries: [{ Id: 'a', MessageBody: 'a', MessageGroupId: 'g' }],
          }),
          'InvalidParameterValue',
          proto,
        );
        expect(noDedup.message).toBe(
          'The queue should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly',
        );
        expect(await counts(sqs, QueueUrl)).toEqual([0, 0, 0]);
      },
    );
  });

  describe('ReceiveMessage', () => {
    it('returns at most MaxNumberOfMessages and validates it', async () => {
      const QueueUrl = await newQueue();
      for (let i = 0; i < 5; i++) await send(QueueUrl, `m${i}`);
      expect(await receive(QueueUrl)).toHaveLength(1);
      expect(await receive(QueueUrl, { MaxNumberOfMessages: 3 })).toHaveLength(3);
      expect(await receive(QueueUrl, { MaxNumberOfMessages: 10 })).toHaveLength(1);
      expect(await receive(QueueUrl, { MaxNumberOfMessages: 10 })).toHaveLength(0);
      for (const n of [0, 11]) {
        const err = await awsError(receive(QueueUrl, { MaxNumberOfMessages: n }), 'InvalidParameterValue', proto);
        expect(err.message).toBe(
          `Value ${n} for parameter MaxNumberOfMessages is invalid. Reason: Must be between 1 and 10, if provided.`,
        );
      }
      const vt = await awsError(receive(QueueUrl, { VisibilityTimeout: 43_201 }), 'InvalidParameterValue', proto);
      expect(vt.message).toBe(
        'Value 43201 for parameter VisibilityTimeout is invalid. Reason: Must be >= 0 and <= 43200, if provided.',
      );
      const wait = await awsError(receive(QueueUrl, { WaitTimeSeconds: 21 }), 'InvalidParameterValue', proto);
      expect(wait.message).toBe(
        'Value 21 for parameter WaitTimeSeconds is invalid. Reason: Must be >= 0 and <= 20, if provided.',
      );
    });

    it('hides a received message for the VisibilityTimeout, then delivers it again', async () => {
      const { sqs, clock } = env;
      const QueueUrl = await newQueue({ VisibilityTimeout: '20' });
      await send(QueueUrl, 'again');
      const [first] = await receive(QueueUrl, { VisibilityTimeout: 10, AttributeNames: ['ApproximateReceiveCount'] });
      expect(first.Attributes).toEqual({ ApproximateReceiveCount: '1' });
      expect(await counts(sqs, QueueUrl)).toEqual([0, 1, 0]);
      clock.advance(9999);
      expect(await receive(QueueUrl)).toEqual([]);
      clock.advance(1);
      expect(await counts(sqs, QueueUrl)).toEqual([1, 0, 0]);
      // without VisibilityTimeout the queue's value (20 s) applies
      const [second] = await receive(QueueUrl, { AttributeNames: ['ApproximateReceiveCount'] });
      expect(second.MessageId).toBe(first.MessageId);
      expect(second.ReceiptHandle).not.toBe(first.ReceiptHandle);
      expect(second.Attributes).toEqual({ ApproximateReceiveCount: '2' });
      clock.advance(19_999);
      expect(await receive(QueueUrl)).toEqual([]);
      clock.advance(1);
      expect(await receive(QueueUrl)).toHaveLength(1);
    });

    it('returns each message at most once per response, even with VisibilityTimeout=0', async () => {
      const QueueUrl = await newQueue();
      await send(QueueUrl, 'one');
      const first = await receive(QueueUrl, { MaxNumberOfMessages: 10, VisibilityTimeout: 0 });
      expect(first.map((m) => m.Body)).toEqual(['one']);
      // still visible: the next receive gets it again, once
      const again = await receive(QueueUrl, { MaxNumberOfMessages: 10, VisibilityTimeout: 0 });
      expect(again.map((m) => m.Body)).toEqual(['one']);
      await send(QueueUrl, 'two');
      await send(QueueUrl, 'three');
      const three = await receive(QueueUrl, { MaxNumberOfMessages: 10, VisibilityTimeout: 0 });
      expect(three.map((m) => m.Body).sort()).toEqual(['one', 'three', 'two']);
      expect(await counts(env.sqs, QueueUrl)).toEqual([3, 0, 0]);
    });

    it('returns the system attributes asked for', async () => {
      const { clock } = env;
      const QueueUrl = await newQueue();
      const sentAt = clock.now();
      const sent = await send(QueueUrl, 'sys', fifo ? { MessageGroupId: 'grp', MessageDeduplicationId: 'dd' } : {});
      clock.advance(1500);
      const [m] = await receive(QueueUrl, { AttributeNames: ['All'], VisibilityTimeout: 0 });
      const expected: Record<string, string> = {
        SenderId: 'test',
        SentTimestamp: String(sentAt),
        ApproximateReceiveCount: '1',
        ApproximateFirstReceiveTimestamp: String(sentAt + 1500),
      };
      if (fifo) {
        expected.MessageGroupId = 'grp';
        expected.MessageDeduplicationId = 'dd';
        expected.SequenceNumber = sent.SequenceNumber;
      }
      expect(m.Attributes).toEqual(expected);
      clock.advance(1000);
      const [again] = await receive(QueueUrl, {
        AttributeNames: ['ApproximateFirstReceiveTimestamp', 'ApproximateReceiveCount'],
      });
      expect(again.Attributes).toEqual({
        ApproximateFirstReceiveTimestamp: String(sentAt + 1500),
        ApproximateReceiveCount: '2',
      });
      if (json) {
        // the newer parameter name, alone
        await env.sqs.call('ChangeMessageVisibility', {
          QueueUrl,
          ReceiptHandle: again.ReceiptHandle,
          VisibilityTimeout: 0,
        });
        const [third] = await receive(QueueUrl, { MessageSystemAttributeNames: ['SentTimestamp'] });
        expect(third.Attributes).toEqual({ SentTimestamp: String(sentAt) });
      }
    });

    it('filters message attributes by All, .*, exact names and prefix.*', async () => {
      const QueueUrl = await newQueue();
      const MessageAttributes: Record<string, AttrValue> = {
        'order.id': { DataType: 'String', StringValue: '1' },
        'order.total': { DataType: 'Number', StringValue: '9.5' },
        orderly: { DataType: 'String', StringValue: 'no' },
        other: { DataType: 'Binary', BinaryValue: Buffer.from([7]) },
      };
      await send(QueueUrl, 'filtered', { MessageAttributes });
      const pick = async (names?: string[]) => {
        const [m] = await receive(QueueUrl, {
          VisibilityTimeout: 0,
          ...(names ? { MessageAttributeNames: names } : {}),
        });
        return m;
      };
      const check = async (names: string[] | undefined, keys: string[]) => {
        const m = await pick(names);
        if (keys.length === 0) {
          expect(m.MessageAttributes).toBeUndefined();
          expect(m.MD5OfMessageAttributes).toBeUndefined();
          return;
        }
        expect(Object.keys(m.MessageAttributes!).sort()).toEqual(keys);
        const subset = Object.fromEntries(keys.map((k) => [k, MessageAttributes[k]]));
        // the digest covers exactly what was returned
        expect(m.MD5OfMessageAttributes).toBe(md5OfAttributes(subset));
      };
      const all = Object.keys(MessageAttributes).sort();
      await check(undefined, []);
      await check(['All'], all);
      await check(['.*'], all);
      // AWS reads `prefix.*` as the prefix before `.*`: `order.*` is `order`, so `orderly` matches too
      await check(['order.*'], ['order.id', 'order.total', 'orderly']);
      await check(['order..*'], ['order.id', 'order.total']);
      await check(['oth.*', 'order.id'], ['order.id', 'other']);
      await check(['orderly', 'order.id'], ['order.id', 'orderly']);
      await check(['nothing'], []);
    });
  });

  describe('DeleteMessage / DeleteMessageBatch', () => {
    it('ignores a stale handle after a re-receive, and repeated deletes succeed', async () => {
      const { sqs, clock } = env;
      const QueueUrl = await newQueue();
      await send(QueueUrl, 'stale');
      const [first] = await receive(QueueUrl, { VisibilityTimeout: 5 });
      clock.advance(5000);
      const [second] = await receive(QueueUrl, { VisibilityTimeout: 30 });
      expect(second.MessageId).toBe(first.MessageId);
      // the old handle does not delete the message
      await sqs.call('DeleteMessage', { QueueUrl, ReceiptHandle: first.ReceiptHandle });
      expect(await counts(sqs, QueueUrl)).toEqual([0, 1, 0]);
      await sqs.call('DeleteMessage', { QueueUrl, ReceiptHandle: second.ReceiptHandle });
      expect(await counts(sqs, QueueUrl)).toEqual([0, 0, 0]);
      await sqs.call('DeleteMessage', { QueueUrl, ReceiptHandle: second.ReceiptHandle });
      await sqs.call('DeleteMessage', { QueueUrl, ReceiptHandle: second.ReceiptHandle });
    });

    it('refuses invalid receipt handles and handles of another queue', async () => {
      const { sqs } = env;
      const QueueUrl = await newQueue();
      const other = await newQueue();
      await send(other, 'elsewhere');
      const [m] = await receive(other);
      for (const handle of ['garbage', m.ReceiptHandle]) {
        const err = await awsError(
          sqs.call('DeleteMessage', { QueueUrl, ReceiptHandle: handle }),
          'ReceiptHandleIsInvalid',
          proto,
        );
        expect(err.message).toBe(`The input receipt handle "${handle}" is not a valid receipt handle.`);
        expect(err.$metadata?.httpStatusCode).toBe(404);
        if (json) expect(err.Code).toBe('ReceiptHandleIsInvalid');
      }
      // a tampered handle is invalid too
      const tampered = m.ReceiptHandle.slice(0, -2) + (m.ReceiptHandle.endsWith('AA') ? 'BB' : 'AA');
      await awsError(
        sqs.call('DeleteMessage', { QueueUrl: other, ReceiptHandle: tampered }),
        'ReceiptHandleIsInvalid',
        proto,
      );
      const missing = await awsError(
        sqs.call('DeleteMessage', { QueueUrl, ReceiptHandle: '' }),
        'MissingParameter',
        proto,
      );
      expect(missing.message).toBe('The request must contain the parameter ReceiptHandle.');
    });

    it(
      fifo
        ? 'refuses a FIFO handle whose visibility timeout has expired'
        : 'deletes with a standard handle after its visibility timeout expired',
      async () => {
        const { sqs, clock } = env;
        const QueueUrl = await newQueue();
        await send(QueueUrl, 'late');
        const [m] = await receive(QueueUrl, { VisibilityTimeout: 5 });
        clock.advance(5000);
        if (fifo) {
          const err = await awsError(
            sqs.call('DeleteMessage', { QueueUrl, ReceiptHandle: m.ReceiptHandle }),
            'InvalidParameterValue',
            proto,
          );
          expect(err.message).toBe(
            `Value ${m.ReceiptHandle} for parameter ReceiptHandle is invalid. Reason: The receipt handle has expired.`,
          );
          expect(await counts(sqs, QueueUrl)).toEqual([1, 0, 0]);
        } else {
          await sqs.call('DeleteMessage', { QueueUrl, ReceiptHandle: m.ReceiptHandle });
          expect(await counts(sqs, QueueUrl)).toEqual([0, 0, 0]);
        }
      },
    );

    it('deletes in batches with per-entry failures', async () => {
      const { sqs } = env;
      const QueueUrl = await newQueue();
      for (let i = 0; i < 3; i++) await send(QueueUrl, `b${i}`);
      const msgs = await receive(QueueUrl, { MaxNumberOfMessages: 10 });
      expect(msgs).toHaveLength(3);
      const r = await sqs.call('DeleteMessageBatch', {
        QueueUrl,
        Entries: [
          { Id: 'a', ReceiptHandle: msgs[0].ReceiptHandle },
          { Id: 'bad', ReceiptHandle: 'nope' },
          { Id: 'b', ReceiptHandle: msgs[1].ReceiptHandle },
          { Id: 'again', ReceiptHandle: msgs[0].ReceiptHandle },
        ],
      });
      expect(r.Successful.map((s: { Id: string }) => s.Id).sort()).toEqual(['a', 'again', 'b']);
      expect(r.Failed).toEqual([
        {
          Id: 'bad',
          SenderFault: true,
          Code: 'ReceiptHandleIsInvalid',
          Message: 'The input receipt handle "nope" is not a valid receipt handle.',
        },
      ]);
      expect(await counts(sqs, QueueUrl)).toEqual([0, 1, 0]);
      const empty = await awsError(
        sqs.call('DeleteMessageBatch', { QueueUrl, Entries: [] }),
        'EmptyBatchRequest',
        proto,
      );
      expect(empty.message).toBe('There should be at least one DeleteMessageBatchRequestEntry in the request.');
      const many = Array.from({ length: 11 }, (_, i) => ({ Id: `i${i}`, ReceiptHandle: msgs[2].ReceiptHandle }));
      await awsError(
        sqs.call('DeleteMessageBatch', { QueueUrl, Entries: many }),
        'TooManyEntriesInBatchRequest',
        proto,
      );
    });
  });

  describe('ChangeMessageVisibility / ChangeMessageVisibilityBatch', () => {
    it('makes a message visible at once with 0 and extends it with more', async () => {
      const { sqs, clock } = env;
      const QueueUrl = await newQueue();
      await send(QueueUrl, 'cmv');
      const [m] = await receive(QueueUrl);
      await sqs.call('ChangeMessageVisibility', { QueueUrl, ReceiptHandle: m.ReceiptHandle, VisibilityTimeout: 0 });
      const [again] = await receive(QueueUrl);
      expect(again.MessageId).toBe(m.MessageId);
      await sqs.call('ChangeMessageVisibility', {
        QueueUrl,
        ReceiptHandle: again.ReceiptHandle,
        VisibilityTimeout: 60,
      });
      clock.advance(59_999);
      expect(await receive(QueueUrl)).toEqual([]);
      clock.advance(1);
      expect(await receive(QueueUrl)).toHaveLength(1);
    });

    it('limits the total visibility to 12 hours from the receive', async () => {
      const { sqs, clock } = env;
      const QueueUrl = await newQueue();
      await send(QueueUrl, 'long');
      const [m] = await receive(QueueUrl, { VisibilityTimeout: 43_200 });
      clock.advance(3600_000);
      const change = (VisibilityTimeout: number) =>
        sqs.call('ChangeMessageVisibility', { QueueUrl, ReceiptHandle: m.ReceiptHandle, VisibilityTimeout });
      const err = await awsError(change(43_200), 'InvalidParameterValue', proto);
      expect(err.message).toBe(
        'Value 43200 for parameter VisibilityTimeout is invalid. Reason: Total VisibilityTimeout for the message is beyond the limit [43200 seconds]',
      );
      await awsError(change(39_601), 'InvalidParameterValue', proto);
      await change(39_600);
      const range = await awsError(change(43_201), 'InvalidParameterValue', proto);
      expect(range.message).toBe(
        'Value 43201 for parameter VisibilityTimeout is invalid. Reason: Must be between 0 and 43200.',
      );
      await awsError(
        sqs.call('ChangeMessageVisibility', { QueueUrl, ReceiptHandle: m.ReceiptHandle }),
        'MissingParameter',
        proto,
      );
    });

    it('refuses a deleted message and an invalid handle', async () => {
      const { sqs } = env;
      const QueueUrl = await newQueue();
      await send(QueueUrl, 'gone');
      const [m] = await receive(QueueUrl);
      await sqs.call('DeleteMessage', { QueueUrl, ReceiptHandle: m.ReceiptHandle });
      const err = await awsError(
        sqs.call('ChangeMessageVisibility', { QueueUrl, ReceiptHandle: m.ReceiptHandle, VisibilityTimeout: 10 }),
        'InvalidParameterValue',
        proto,
      );
      expect(err.message).toBe(
        `Value ${m.ReceiptHandle} for parameter ReceiptHandle is invalid. Reason: Message does not exist or is not available for visibility timeout change.`,
      );
      await awsError(
        sqs.call('ChangeMessageVisibility', { QueueUrl, ReceiptHandle: 'junk', VisibilityTimeout: 10 }),
        'ReceiptHandleIsInvalid',
        proto,
      );
    });

    it(
      fifo
        ? 'refuses a FIFO handle whose visibility timeout has expired'
        : 'changes a standard message whose visibility timeout expired',
      async () => {
        const { sqs, clock } = env;
        const QueueUrl = await newQueue();
        await send(QueueUrl, 'expired');
        const [m] = await receive(QueueUrl, { VisibilityTimeout: 5 });
        clock.advance(5000);
        const p = sqs.call('ChangeMessageVisibility', {
          QueueUrl,
          ReceiptHandle: m.ReceiptHandle,
          VisibilityTimeout: 30,
        });
        if (fifo) {
          const err = await awsError(p, 'InvalidParameterValue', proto);
          expect(err.message).toBe(
            `Value ${m.ReceiptHandle} for parameter ReceiptHandle is invalid. Reason: The receipt handle has expired.`,
          );
        } else {
          await p;
          expect(await counts(env.sqs, QueueUrl)).toEqual([0, 1, 0]);
        }
      },
    );

    it('changes visibility in batches with per-entry failures', async () => {
      const { sqs, clock } = env;
      const QueueUrl = await newQueue();
      for (let i = 0; i < 3; i++) await send(QueueUrl, `c${i}`);
      const msgs = await receive(QueueUrl, { MaxNumberOfMessages: 10, VisibilityTimeout: 30 });
      await sqs.call('DeleteMessage', { QueueUrl, ReceiptHandle: msgs[2].ReceiptHandle });
      const r = await sqs.call('ChangeMessageVisibilityBatch', {
        QueueUrl,
        Entries: [
          { Id: 'zero', ReceiptHandle: msgs[0].ReceiptHandle, VisibilityTimeout: 0 },
          { Id: 'long', ReceiptHandle: msgs[1].ReceiptHandle, VisibilityTimeout: 100 },
          { Id: 'deleted', ReceiptHandle: msgs[2].ReceiptHandle, VisibilityTimeout: 10 },
          { Id: 'junk', ReceiptHandle: 'junk', VisibilityTimeout: 10 },
          { Id: 'range', ReceiptHandle: msgs[1].ReceiptHandle, VisibilityTimeout: 43_201 },
        ],
      });
      expect(r.Successful.map((s: { Id: string }) => s.Id).sort()).toEqual(['long', 'zero']);
      const failed = Object.fromEntries(r.Failed.map((f: { Id: string }) => [f.Id, f]));
      expect(failed.deleted).toEqual({
        Id: 'deleted',
        SenderFault: true,
        Code: 'InvalidParameterValue',
        Message: `Value ${msgs[2].ReceiptHandle} for parameter ReceiptHandle is invalid. Reason: Message does not exist or is not available for visibility timeout change.`,
      });
      expect(failed.junk).toMatchObject({ Code: 'ReceiptHandleIsInvalid', SenderFault: true });
      expect(failed.range).toMatchObject({
        Code: 'InvalidParameterValue',
        Message: 'Value 43201 for parameter VisibilityTimeout is invalid. Reason: Must be between 0 and 43200.',
      });
      expect(await counts(sqs, QueueUrl)).toEqual([1, 1, 0]);
      clock.advance(100_000);
      expect(await counts(sqs, QueueUrl)).toEqual([2, 0, 0]);
      await awsError(sqs.call('ChangeMessageVisibilityBatch', { QueueUrl, Entries: [] }), 'EmptyBatchRequest', proto);
    });
  });

  describe('retention', () => {
    it('drops messages older than MessageRetentionPeriod', async () => {
      const { sqs, clock, wharf } = env;
      const QueueUrl = await newQueue({ MessageRetentionPeriod: '60' });
      await send(QueueUrl, 'old');
      clock.advance(30_000);
      await send(QueueUrl, 'young');
      clock.advance(29_999);
      expect(await counts(sqs, QueueUrl)).toEqual([2, 0, 0]);
      clock.advance(1);
      // the background sweep removes it...
      await wharf.services.sqs.runMaintenance();
      expect(await counts(sqs, QueueUrl)).toEqual([1, 0, 0]);
      // ...and a receive never returns it
      await send(QueueUrl, 'third');
      clock.advance(30_000);
      const got = await receive(QueueUrl, { MaxNumberOfMessages: 10 });
      expect(got.map((m) => m.Body)).toEqual(['third']);
    });
  });

  describe('dead-letter queue', () => {
    it('moves a message after maxReceiveCount receives, keeping its id, attributes and receive count', async () => {
      const { sqs, clock } = env;
      const dlq = await createQueue(sqs, 'dlq', fifo);
      const src = await newQueue({
        RedrivePolicy: JSON.stringify({ deadLetterTargetArn: arnOfUrl(dlq), maxReceiveCount: 2 }),
      });
      const MessageAttributes = { k: { DataType: 'String', StringValue: 'v' } };
      const sentAt = clock.now();
      const sent = await send(src, 'poison', { MessageAttributes, ...(fifo ? { MessageGroupId: 'pg' } : {}) });
      for (let i = 1; i <= 2; i++) {
        const [m] = await receive(src, { AttributeNames: ['ApproximateReceiveCount'] });
        expect(m.Attributes!.ApproximateReceiveCount).toBe(String(i));
        await sqs.call('ChangeMessageVisibility', {
          QueueUrl: src,
          ReceiptHandle: m.ReceiptHandle,
          VisibilityTimeout: 0,
        });
      }
      clock.advance(1000);
      // the third receive moves it and returns nothing
      expect(await receive(src)).toEqual([]);
      expect(await counts(sqs, src)).toEqual([0, 0, 0]);
      expect(await counts(sqs, dlq)).toEqual([1, 0, 0]);
      const [d] = await receive(dlq, { AttributeNames: ['All'], MessageAttributeNames: ['All'] });
      expect(d.MessageId).toBe(sent.MessageId);
      expect(d.Body).toBe('poison');
      expect(d.MD5OfMessageAttributes).toBe(sent.MD5OfMessageAttributes);
      expect(d.MessageAttributes!.k.StringValue).toBe('v');
      expect(d.Attributes!.DeadLetterQueueSourceArn).toBe(arnOfUrl(src));
      expect(d.Attributes!.ApproximateReceiveCount).toBe('3');
      if (fifo) {
        // a FIFO DLQ deduplicates on the message id
        expect(d.Attributes!.MessageGroupId).toBe('pg');
        expect(d.Attributes!.MessageDeduplicationId).toBe(sent.MessageId);
      } else {
        expect(d.Attributes!.SentTimestamp).toBe(String(sentAt));
      }
      expect(nameOf(dlq)).not.toBe(nameOf(src));
    });
  });
});
