/** Delivery policies: AWS's phases and defaults, the 3,600 s ceiling, and the limits of each field. */
import { describe, expect, it } from 'vitest';
import {
  AWS_MANAGED_RETRY,
  checkDeliveryPolicy,
  parseRetryPolicy,
  retryDelay,
} from '../../src/services/sns/delivery-policy.js';

const fail = (why: string) => new Error(why);
const schedule = (p: Parameters<typeof retryDelay>[0]) =>
  Array.from({ length: p.numRetries }, (_, i) => retryDelay(p, i + 1));

describe('SNS delivery policies', () => {
  it('defaults to 3 retries 20 s apart', () => {
    expect(schedule(parseRetryPolicy({}, fail))).toEqual([20, 20, 20]);
  });

  it('runs the four phases in order', () => {
    const p = parseRetryPolicy(
      {
        numRetries: 8,
        numNoDelayRetries: 2,
        numMinDelayRetries: 1,
        numMaxDelayRetries: 2,
        minDelayTarget: 1,
        maxDelayTarget: 31,
      },
      fail,
    );
    // three backoff retries climb linearly to the maximum
    expect(schedule(p)).toEqual([0, 0, 1, 11, 21, 31, 31, 31]);
  });

  it('climbs from min to max along each backoff function', () => {
    for (const backoffFunction of ['linear', 'arithmetic', 'geometric', 'exponential']) {
      const s = schedule(
        parseRetryPolicy({ numRetries: 10, minDelayTarget: 2, maxDelayTarget: 60, backoffFunction }, fail),
      );
      expect(s[9]).toBeCloseTo(60);
      expect(s[0]).toBeGreaterThanOrEqual(2);
      for (let i = 1; i < s.length; i++) expect(s[i]).toBeGreaterThan(s[i - 1]);
    }
  });

  it("follows AWS's policy for AWS-managed endpoints: 100,015 attempts", () => {
    expect(AWS_MANAGED_RETRY.numRetries + 1).toBe(100_015);
    expect([1, 2, 3, 4, 5].map((n) => retryDelay(AWS_MANAGED_RETRY, n))).toEqual([0, 0, 0, 1, 1]);
    expect(retryDelay(AWS_MANAGED_RETRY, 15)).toBeCloseTo(20);
    expect(retryDelay(AWS_MANAGED_RETRY, 100_014)).toBe(20);
  });

  it('refuses what is out of range, and a policy longer than an hour', () => {
    const why = (p: unknown) => {
      try {
        checkDeliveryPolicy(p, 'subscription', fail);
        return 'ok';
      } catch (e) {
        return (e as Error).message;
      }
    };
    expect(why({ healthyRetryPolicy: { numRetries: 101 } })).toBe('numRetries must be an integer from 0 to 100');
    expect(why({ healthyRetryPolicy: { minDelayTarget: 0 } })).toBe('minDelayTarget must be an integer from 1 to 3600');
    expect(why({ healthyRetryPolicy: { minDelayTarget: 30, maxDelayTarget: 10 } })).toBe(
      'minDelayTarget must be less than or equal to maxDelayTarget',
    );
    expect(why({ healthyRetryPolicy: { numRetries: 100, minDelayTarget: 60, maxDelayTarget: 60 } })).toBe(
      'the total retry time may not exceed 3600 seconds',
    );
    expect(why({ healthyRetryPolicy: { backoffFunction: 'cubic' } })).toBe(
      'backoffFunction must be one of linear, arithmetic, geometric, exponential',
    );
    expect(why({ throttlePolicy: { maxReceivesPerSecond: 0 } })).toMatch(/^maxReceivesPerSecond/);
    expect(why({ requestPolicy: { headerContentType: 'text/html' } })).toMatch(/^headerContentType/);
    expect(why({ healthyRetryPolicy: { numRetries: 5 }, throttlePolicy: { maxReceivesPerSecond: 2 } })).toBe('ok');
  });
});
