/** What Kinesis accepts as a stream consumer's name: 1 to 128 characters of `a-z A-Z 0-9 _ . -`. */
export const CONSUMER_NAME_PATTERN = /^[a-zA-Z0-9_.-]{1,128}$/;

/**
 * Why `name` cannot be a stream consumer's name (one line saying what to use instead), or `undefined` when it can.
 */
export function consumerNameProblem(name: string): string | undefined {
  if (CONSUMER_NAME_PATTERN.test(name)) return undefined;
  if (name.length === 0) return 'the consumer name is empty: give 1 to 128 characters of letters, digits, _ . and -';
  if (name.length > 128) return `the consumer name is ${name.length} characters long: Kinesis allows at most 128 (letters, digits, _ . and -)`;
  const bad = [...new Set([...name].filter((c) => !/[a-zA-Z0-9_.-]/.test(c)))].map((c) => JSON.stringify(c)).join(' ');
  return `the consumer name ${JSON.stringify(name)} has characters Kinesis does not allow (${bad}): use only letters, digits, _ . and -`;
}
