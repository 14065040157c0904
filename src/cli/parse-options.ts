import { InvalidArgumentError } from 'commander';

/** Parses a positive integer option value, or says what is expected. */
export function parsePositiveInteger(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n <= 0) {
    throw new InvalidArgumentError(`expected a positive whole number, got "${value}"`);
  }
  return n;
}

/** Parses a TCP port (1 to 65535), or says what is expected. */
export function parsePort(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isInteger(n) || n < 1 || n > 65_535) {
    throw new InvalidArgumentError(`expected a TCP port from 1 to 65535, got "${value}"`);
  }
  return n;
}
