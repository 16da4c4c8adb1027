/**
 * The AWS Coral validation wording, shared by the services whose front end answers that way
 * (STS, Kinesis, EventBridge, Firehose, Lambda): every failed constraint is listed, up to ten,
 * `1 validation error detected: Value 'x' at 'roleSessionName' failed to satisfy constraint: …`.
 * protocol/validate.ts finds the violations from the model; a service may add its own.
 */
export interface Violation {
  /** the member's path in lowerCamelCase, as AWS writes it (`records.1.member.partitionKey`) */
  path: string;
  /** null when absent; anything else is written as text between quotes */
  value: unknown;
  constraint: string;
}

/** AWS lists at most this many violations (and counts only those it lists). */
export const MAX_VIOLATIONS = 10;

const describe = (v: unknown) => (v === undefined || v === null ? 'null' : `'${String(v)}'`);

export function validationMessage(violations: Violation[]): string {
  const listed = violations.slice(0, MAX_VIOLATIONS);
  const n = listed.length;
  const parts = listed.map(
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
  enum: (values: readonly string[]) => `Member must satisfy enum value set: [${values.join(', ')}]`,
};

/** lowerCamelCase of a member name (RoleSessionName → roleSessionName). */
export const memberPath = (name: string) => name.charAt(0).toLowerCase() + name.slice(1);
