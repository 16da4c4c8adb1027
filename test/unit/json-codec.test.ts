/** The model-driven AWS JSON decoder: types checked and converted, errors worded as Coral's. */
import { describe, expect, it } from 'vitest';
import { loadModel } from '../../src/protocol/model.js';
import { decodeJsonInput } from '../../src/protocol/json.js';

const kinesis = loadModel('kinesis');
const decode = (shape: string, input: unknown) => decodeJsonInput(kinesis, shape, Buffer.from(JSON.stringify(input)));
const failure = (f: () => unknown) => {
  try {
    f();
  } catch (e) {
    return (e as Error).message;
  }
  return 'no error';
};

describe('decodeJsonInput', () => {
  it('converts blobs in nested lists and keeps only modelled members', () => {
    const out = decode('PutRecordsInput', {
      StreamName: 's',
      Extra: 1,
      Records: [
        { Data: 'eA==', PartitionKey: 'a' },
        { Data: 'eXk=', PartitionKey: 'b' },
      ],
    }) as { Records: { Data: Buffer }[] };
    expect(Object.keys(out)).toEqual(['Records', 'StreamName']);
    expect(out.Records.map((r) => r.Data.toString())).toEqual(['x', 'yy']);
  });

  it('names where an invalid base64 blob sits', () => {
    const bad = {
      StreamName: 's',
      Records: [
        { Data: 'eA==', PartitionKey: 'a' },
        { Data: 'e!', PartitionKey: 'b' },
      ],
    };
    expect(failure(() => decode('PutRecordsInput', bad))).toBe('Invalid base64 at PutRecordsInput.Records[1].Data');
    expect(failure(() => decode('PutRecordInput', { Data: 'a', PartitionKey: 'p' }))).toBe(
      'Invalid base64 at PutRecordInput.Data',
    );
  });

  it('words type mismatches as Coral does', () => {
    expect(failure(() => decode('PutRecordInput', { StreamName: 5 }))).toBe(
      'NUMBER_VALUE can not be converted to a String',
    );
    expect(failure(() => decode('PutRecordsInput', { Records: {} }))).toBe(
      'Start of structure or map found where not expected.',
    );
  });
});
