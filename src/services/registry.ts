/**
 * The services Wharf serves. Adding one is a folder under services/ and a line here: the
 * pipeline, the router, startWharf(), reset and shutdown iterate this table.
 */
import { sqs } from './sqs/definition.js';
import { sns } from './sns/definition.js';
import { sts } from './sts/definition.js';
import { kinesis } from './kinesis/definition.js';

export const REGISTRY = { sqs, sns, sts, kinesis };

export type ServiceName = keyof typeof REGISTRY;
/** The running instance of each service (what its handlers receive). */
export type ServiceInstances = {
  [K in ServiceName]: Awaited<ReturnType<(typeof REGISTRY)[K]['start']>>;
};
