// The errors of the operational store: it cannot be reached, or its schema cannot be brought up to date.
import { KeyledgerError } from '../errors/keyledger-error.js';

export class OperationalStoreError extends KeyledgerError {
  constructor(
    code: 'E_STORE_UNREACHABLE' | 'E_STORE_MIGRATION' | 'E_STORE_CONFIG',
    message: string,
    options: { cause?: unknown; details?: Record<string, unknown> } = {},
  ) {
    super(code, message, { category: code === 'E_STORE_CONFIG' ? 'config' : 'external', ...options });
  }
}

/** A database URL fit to print: the password, if any, replaced. */
export function redactDatabaseUrl(databaseUrl: string): string {
  try {
    const url = new URL(databaseUrl);
    if (url.password) url.password = '****';
    return url.toString();
  } catch {
    return '<unparseable database URL>';
  }
}
