// Keeps key material out of the event log. A SecretValue already writes itself as `[REDACTED]`, so it cannot leak;
// but an event that carries one (or a string made from one) records nothing useful and shows a caller that took
// a wrong turn, so the log refuses it loudly instead of storing a marker.
import { KeyledgerError } from '../errors/keyledger-error.js';
import { SecretValue } from '../secrets/secret-value.js';

export class EventSecretError extends KeyledgerError {
  constructor(path: string, what: string) {
    super(
      'E_EVENT_SECRET',
      `event data at ${path} ${what}; events must never carry key material, record a fingerprint or key id instead`,
      { category: 'input', details: { path } },
    );
  }
}

// What a SecretValue turns into through JSON, String() and util.inspect; a partial redaction a scanner writes
// around a match (`sk_live_…[REDACTED]`) stays allowed.
const SECRET_VALUE_MARKERS = ['SecretValue([REDACTED])'];
const SECRET_VALUE_TEXT = '[REDACTED]';

/** Throws EventSecretError when `data` holds a SecretValue, or a string that is one turned into text. */
export function assertNoSecretInEventData(data: unknown, path = 'data'): void {
  walk(data, path, new Set());
}

function walk(value: unknown, path: string, seen: Set<object>): void {
  if (value instanceof SecretValue) throw new EventSecretError(path, 'is a SecretValue');
  if (typeof value === 'string') {
    if (value === SECRET_VALUE_TEXT || SECRET_VALUE_MARKERS.some((marker) => value.includes(marker))) {
      throw new EventSecretError(path, 'is a SecretValue turned into text');
    }
    return;
  }
  if (value === null || typeof value !== 'object' || seen.has(value)) return;
  seen.add(value);
  if (Array.isArray(value)) {
    for (const [index, item] of value.entries()) walk(item, `${path}[${index}]`, seen);
    return;
  }
  for (const [key, item] of Object.entries(value)) walk(item, `${path}.${key}`, seen);
}
