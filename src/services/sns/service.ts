/** SNS state: topics in the resource store (kind `sns.topic`), one document per topic. */
import type { Clock } from '../../kernel/clock.js';
import type { ResourceKey, ResourceStore } from '../../store/resources.js';

export const TOPIC = 'sns.topic';

export interface TopicDoc {
  fifo: boolean;
  /** the attributes as the user set them (AWS string values) */
  attributes: Record<string, string>;
}

export class SnsService {
  constructor(
    readonly resources: ResourceStore,
    readonly clock: Clock,
  ) {}

  key(account: string, region: string, name: string): ResourceKey {
    return { kind: TOPIC, account, region, name };
  }
}
