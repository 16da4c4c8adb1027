/** The router on its own: Query by scope and action, JSON by target, rest-json by method and path. */
import { describe, expect, it } from 'vitest';
import { createRouter, type Mounted } from '../../src/server/router.js';
import { loadModel } from '../../src/protocol/model.js';
import { dialectOf } from '../../src/protocol/errors.js';
import { ServiceError } from '../../src/kernel/errors.js';
import type { ServiceDefinition } from '../../src/services/definition.js';
import type { WireProtocol } from '../../src/kernel/wire.js';

function mount(name: string, protocols: WireProtocol[], operations: string[], targetPrefix?: string): Mounted {
  const model = loadModel(name);
  const err = (type: string) => () => new ServiceError(type, name);
  const def: ServiceDefinition = {
    model: name,
    signingName: model.service.signingName,
    protocols,
    ...(targetPrefix ? { targetPrefix } : {}),
    operations: Object.fromEntries(operations.map((op) => [op, async () => ({})])),
    errors: {
      internalFailure: err('InternalFailure'),
      serviceUnavailable: err('ServiceUnavailable'),
      invalidAction: (a) => new ServiceError('InvalidAction', `${name} has no ${a}`),
    },
    start: async () => ({}),
    stop: () => {},
  };
  return {
    name,
    def,
    svc: {},
    model,
    dialect: dialectOf(model),
    ...(protocols.includes('json1.0') ? { json: 'json1.0' as const } : {}),
  };
}

describe('router', () => {
  const sqs = mount('sqs', ['json1.0', 'query'], ['AddPermission', 'SendMessage'], 'AmazonSQS');
  const sns = mount('sns', ['query'], ['AddPermission', 'Publish']);
  const lambda = mount('lambda', ['rest-json'], ['Invoke', 'GetFunction', 'ListFunctions']);
  const router = createRouter([sqs, sns, lambda]);
  const q = new URLSearchParams();

  it('routes Query actions both services have by the signing name, else to the only one that has it', () => {
    expect(router.query('AddPermission', 'sns').to).toBe(sns);
    expect(router.query('AddPermission', 'sqs').to).toBe(sqs);
    expect(router.query('Publish', undefined).to).toBe(sns);
    expect(router.query('Publish', 'sqs').error?.message).toBe('sqs has no Publish');
    expect(() => router.query('ListTables', 'dynamodb')).toThrow(/Wharf does not serve dynamodb/);
  });

  it('routes X-Amz-Target by prefix and names what is served when the prefix is unknown', () => {
    expect(router.json('AmazonSQS.SendMessage').to).toBe(sqs);
    expect(() => router.json('DynamoDB_20120810.ListTables')).toThrow(
      'Wharf does not serve X-Amz-Target DynamoDB_20120810.ListTables; it serves sqs (X-Amz-Target AmazonSQS), sns, lambda.',
    );
  });

  it('routes rest-json by method and path, only to operations the service serves', () => {
    expect(router.servesRest).toBe(true);
    expect(router.rest('POST', '/2015-03-31/functions/f1/invocations', q)).toMatchObject({
      to: lambda,
      operation: 'Invoke',
      labels: { FunctionName: 'f1' },
    });
    expect(router.rest('GET', '/2015-03-31/functions/', q)?.operation).toBe('ListFunctions');
    expect(router.rest('GET', '/2015-03-31/functions/f1', q)?.operation).toBe('GetFunction');
    // in the model, not served
    expect(router.rest('DELETE', '/2015-03-31/functions/f1', q)).toBeUndefined();
    expect(router.rest('GET', '/', q)).toBeUndefined();
    expect(createRouter([sqs]).servesRest).toBe(false);
  });
});
