// Errors raised by provider adapters. They carry the provider's own message and status, never the key.
import { KeyledgerError } from './keyledger-error.js';

export type ProviderErrorCode =
  | 'E_PROVIDER_RATE_LIMITED'
  | 'E_PROVIDER_AUTH'
  | 'E_PROVIDER_NOT_FOUND'
  | 'E_PROVIDER_LIMIT_EXCEEDED'
  | 'E_PROVIDER_CONFLICT'
  | 'E_PROVIDER_INVALID_REQUEST'
  | 'E_PROVIDER_UNAVAILABLE'
  | 'E_PROVIDER_TIMEOUT'
  | 'E_PROVIDER_UNSUPPORTED'
  | 'E_PROVIDER';

export class ProviderError extends KeyledgerError {
  readonly provider: string;
  readonly status?: number;
  /** The provider's own error code (`LimitExceeded`, `rate_limit_exceeded`...). */
  readonly providerCode?: string;
  /** Seconds the provider asked us to wait (Retry-After), when it did. */
  readonly retryAfterSeconds?: number;
  readonly retryable: boolean;

  constructor(
    code: ProviderErrorCode,
    provider: string,
    message: string,
    options: {
      status?: number;
      providerCode?: string;
      retryAfterSeconds?: number;
      retryable?: boolean;
      cause?: unknown;
    } = {},
  ) {
    super(code, `${provider}: ${message}`, {
      category: code === 'E_PROVIDER_NOT_FOUND' ? 'not-found' : 'external',
      details: {
        provider,
        ...(options.status !== undefined ? { status: options.status } : {}),
        ...(options.providerCode ? { providerCode: options.providerCode } : {}),
      },
      cause: options.cause,
    });
    this.provider = provider;
    if (options.status !== undefined) this.status = options.status;
    if (options.providerCode !== undefined) this.providerCode = options.providerCode;
    if (options.retryAfterSeconds !== undefined) this.retryAfterSeconds = options.retryAfterSeconds;
    this.retryable =
      options.retryable ??
      (code === 'E_PROVIDER_RATE_LIMITED' || code === 'E_PROVIDER_UNAVAILABLE' || code === 'E_PROVIDER_TIMEOUT');
  }
}
