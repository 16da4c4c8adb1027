/** The attributes a subscription takes, checked as AWS checks them (Subscribe words them `Attributes Reason: ...`). */
import { parseArn } from '../shared/arn.js';
import { SnsErrors } from './errors.js';
import { checkDeliveryPolicy } from './delivery-policy.js';
import { checkFilterPolicy } from './filter.js';

export const SUBSCRIPTION_ATTRIBUTES = new Set([
  'DeliveryPolicy',
  'FilterPolicy',
  'FilterPolicyScope',
  'RawMessageDelivery',
  'RedrivePolicy',
  'SubscriptionRoleArn',
  'ReplayPolicy',
]);
const RAW_PROTOCOLS = new Set(['sqs', 'http', 'https', 'firehose']);

export interface AttributeContext {
  fifoTopic: boolean;
  protocol: string;
  /** Subscribe (errors say `Attributes Reason: ...`) rather than SetSubscriptionAttributes */
  subscribe: boolean;
  /** the FilterPolicyScope a filter policy will apply to */
  scope: 'MessageAttributes' | 'MessageBody';
}

const parseJson = (v: string): unknown => {
  try {
    return JSON.parse(v) as unknown;
  } catch {
    return undefined;
  }
};

/** Checks one attribute and returns the value to keep (normalised where AWS normalises it); '' clears it. */
export function checkSubscriptionAttribute(name: string, value: string, c: AttributeContext): string {
  const fail = (why: string) => SnsErrors.invalid(c.subscribe ? `Attributes Reason: ${why}` : why);
  if (!SUBSCRIPTION_ATTRIBUTES.has(name)) throw fail('AttributeName');
  if (value === '') return '';
  switch (name) {
    case 'RawMessageDelivery': {
      const v = value.toLowerCase();
      if (v !== 'true' && v !== 'false')
        throw fail(`RawMessageDelivery: Invalid value [${value}]. Must be true or false.`);
      if (v === 'true' && !RAW_PROTOCOLS.has(c.protocol))
        throw fail(`Delivery protocol [${c.protocol}] does not support raw message delivery.`);
      return v;
    }
    case 'FilterPolicyScope':
      if (value !== 'MessageAttributes' && value !== 'MessageBody')
        throw fail(`FilterPolicyScope: Invalid value [${value}]. Please use either MessageBody or MessageAttributes`);
      return value;
    case 'FilterPolicy': {
      const policy = parseJson(value);
      if (policy === undefined) throw fail('FilterPolicy: failed to parse JSON.');
      checkFilterPolicy(policy, c.scope, (why) => fail(`FilterPolicy: ${why}`));
      return value;
    }
    case 'RedrivePolicy': {
      const policy = parseJson(value) as { deadLetterTargetArn?: unknown } | undefined;
      if (policy === undefined || typeof policy !== 'object' || policy === null)
        throw fail('RedrivePolicy: failed to parse JSON.');
      const dlq = typeof policy.deadLetterTargetArn === 'string' ? parseArn(policy.deadLetterTargetArn) : undefined;
      if (!dlq || dlq.service !== 'sqs') throw fail('RedrivePolicy: deadLetterTargetArn is an invalid arn');
      if (c.fifoTopic && !dlq.resource.endsWith('.fifo'))
        throw fail('RedrivePolicy: must use a FIFO queue as DLQ for a FIFO Subscription to a FIFO Topic.');
      return value;
    }
    case 'DeliveryPolicy': {
      const policy = parseJson(value);
      if (policy === undefined) throw fail('DeliveryPolicy: failed to parse JSON.');
      checkDeliveryPolicy(policy, 'subscription', (why) => fail(`DeliveryPolicy: ${why}`));
      return value;
    }
    case 'SubscriptionRoleArn':
      if (parseArn(value)?.service !== 'iam') throw fail('SubscriptionRoleArn');
      return value;
    case 'ReplayPolicy':
      if (!c.fifoTopic) throw fail('ReplayPolicy: only FIFO topics replay');
      if (parseJson(value) === undefined) throw fail('ReplayPolicy: failed to parse JSON.');
      return value;
  }
  return value;
}
