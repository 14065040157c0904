import { InvalidArgumentError } from 'commander';

const KEY = /^[A-Za-z_][\w.-]*$/;

/**
 * Adds one `--adapter-option key=value` to the options collected so far (commander calls it once per occurrence). The
 * value is everything after the first `=`, so it may itself hold `=`; a key given twice keeps its last value.
 */
export function collectAdapterOption(text: string, previous: Readonly<Record<string, string>>): Readonly<Record<string, string>> {
  const at = text.indexOf('=');
  const key = at < 0 ? text : text.slice(0, at);
  if (at < 0 || !KEY.test(key)) {
    throw new InvalidArgumentError(`expected key=value with a key of letters, digits, '_', '.' or '-', got "${text}"`);
  }
  return { ...previous, [key]: text.slice(at + 1) };
}
