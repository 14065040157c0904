import { type InitialPosition } from '../../core/consumer-options';
import { ConfigurationError } from '../../core/errors';

/**
 * Parses a `--from` value: `trim-horizon`, `latest`, or an ISO 8601 time (`2026-01-31T12:00:00Z`) for AT_TIMESTAMP.
 * @throws ConfigurationError naming the accepted forms.
 */
export function parseInitialPosition(value: string): InitialPosition {
  const v = value.trim().toLowerCase();
  if (v === 'trim-horizon' || v === 'trim_horizon') return 'TRIM_HORIZON';
  if (v === 'latest') return 'LATEST';
  if (/^\d{4}-\d{2}-\d{2}/.test(v)) {
    const at = new Date(value);
    if (!Number.isNaN(at.getTime())) return { atTimestamp: at };
  }
  throw new ConfigurationError(`--from ${JSON.stringify(value)} is not understood: use trim-horizon, latest or an ISO time such as 2026-01-31T12:00:00Z`);
}
