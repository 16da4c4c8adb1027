/** Topic names and ARNs. */
import { parseArn } from '../shared/arn.js';

const NAME = /^[A-Za-z0-9_-]{1,256}$/;
const FIFO_NAME = /^[A-Za-z0-9_-]{1,251}\.fifo$/;
const ACCOUNT = /^\d{12}$/;

export const topicArn = (region: string, account: string, name: string) => `arn:aws:sns:${region}:${account}:${name}`;

export function validTopicName(name: string, fifo: boolean): boolean {
  return fifo ? FIFO_NAME.test(name) : NAME.test(name);
}

export interface TopicAddress {
  region: string;
  account: string;
  name: string;
}

/** arn:aws:sns:<region>:<account>:<name>, or undefined. */
export function parseTopicArn(arn: string): TopicAddress | undefined {
  const a = parseArn(arn);
  if (!a || a.service !== 'sns' || !a.region || !ACCOUNT.test(a.account) || !a.resource) return undefined;
  if (!NAME.test(a.resource) && !FIFO_NAME.test(a.resource)) return undefined;
  return { region: a.region, account: a.account, name: a.resource };
}
