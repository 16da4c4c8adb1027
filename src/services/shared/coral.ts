/**
 * The AWS Coral validation wording, shared by the services whose front end answers that way
 * (STS, Kinesis, EventBridge, Firehose, Lambda): every failed member is listed,
 * `1 validation error detected: Value 'x' at 'roleSessionName' failed to satisfy constraint: …`.
 */
export interface Violation {
  /** the member's path in lowerCamelCase, as AWS writes it */
  path: string;
  value: unknown;
  constraint: string;
}

const describe = (v: unknown) => (v === undefined || v === null ? 'null' : `'${String(v)}'`);

export function validationMessage(violations: Violation[]): string {
  const n = violations.length;
  const parts = violations.map(
    (v) => `Value ${describe(v.value)} at '${v.path}' failed to satisfy constraint: ${v.constraint}`,
  );
  return `${n} validation error${n === 1 ? '' : 's'} detected: ${parts.join('; ')}`;
}

export const constraint = {
  notNull: 'Member must not be null',
  minLength: (n: number) => `Member must have length greater than or equal to ${n}`,
  maxLength: (n: number) => `Member must have length less than or equal to ${n}`,
  min: (n: number) => `Member must have value greater than or equal to ${n}`,
  max: (n: number) => `Member must have value less than or equal to ${n}`,
  pattern: (p: string) => `Member must satisfy regular expression pattern: ${p}`,
};

/** lowerCamelCase of a member name (RoleSessionName → roleSessionName). */
export const memberPath = (name: string) => name.charAt(0).toLowerCase() + name.slice(1);
