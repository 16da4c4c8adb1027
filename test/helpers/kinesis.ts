/** Kinesis tests: a client on a Wharf, and reading a shard to its end. */
import * as k from '@aws-sdk/client-kinesis';

/** A Kinesis client on a Wharf (one attempt, any credentials); HTTP/2, as the SDK's default in Node. */
export function kinesisClient(endpoint: string, region = 'us-east-1', accessKeyId = 'test'): k.KinesisClient {
  return new k.KinesisClient({
    endpoint,
    region,
    credentials: { accessKeyId, secretAccessKey: 'test' },
    maxAttempts: 1,
  });
}

/** Every record of a shard from TRIM_HORIZON until a read comes back empty (or the shard ends). */
export async function readShard(
  c: k.KinesisClient,
  StreamName: string,
  ShardId: string,
  from: Partial<k.GetShardIteratorInput> = { ShardIteratorType: 'TRIM_HORIZON' },
): Promise<{ records: k._Record[]; end?: k.GetRecordsOutput }> {
  let it = (
    await c.send(new k.GetShardIteratorCommand({ StreamName, ShardId, ShardIteratorType: 'TRIM_HORIZON', ...from }))
  ).ShardIterator;
  const records: k._Record[] = [];
  while (it) {
    const r = await c.send(new k.GetRecordsCommand({ ShardIterator: it }));
    records.push(...(r.Records ?? []));
    if (!r.NextShardIterator) return { records, end: r };
    if (!r.Records?.length) break;
    it = r.NextShardIterator;
  }
  return { records };
}

export const text = (r: k._Record) => Buffer.from(r.Data!).toString();
