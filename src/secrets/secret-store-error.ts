// Errors raised by secret stores. They carry the store's own words (Vault's `errors` array, the AWS error type)
// and never the key material: messages are built from codes, paths and the store's replies, never from a value.
import { type ErrorCategory, KeyledgerError } from '../errors/keyledger-error.js';

export type SecretStoreErrorCode =
  /** No secret at the path, or no version holding the asked-for stage. */
  | 'E_SECRET_NOT_FOUND'
  /** A concurrent writer won (a check-and-set lost), or an idempotency token was reused for a different value. */
  | 'E_SECRET_CONFLICT'
  /** A ciphertext, wrapped key or row binding failed authentication: tampering, a moved row or a wrong key. */
  | 'E_SECRET_TAMPERED'
  /** The path is not one the stores accept. */
  | 'E_SECRET_PATH'
  /** The request was refused as malformed (metadata too large, a parameter out of range). */
  | 'E_SECRET_STORE_INVALID_REQUEST'
  /** The store refused our credentials. */
  | 'E_SECRET_STORE_AUTH'
  /** The store could not be reached or answered with a server error. */
  | 'E_SECRET_STORE_UNAVAILABLE'
  /** The master key is missing, malformed, or a row names a key id the keyring does not hold. */
  | 'E_MASTER_KEY'
  | 'E_SECRET_STORE';

const CATEGORY: Record<SecretStoreErrorCode, ErrorCategory> = {
  E_SECRET_NOT_FOUND: 'not-found',
  E_SECRET_CONFLICT: 'conflict',
  E_SECRET_TAMPERED: 'internal',
  E_SECRET_PATH: 'input',
  E_SECRET_STORE_INVALID_REQUEST: 'input',
  E_SECRET_STORE_AUTH: 'external',
  E_SECRET_STORE_UNAVAILABLE: 'external',
  E_MASTER_KEY: 'config',
  E_SECRET_STORE: 'external',
};

export class SecretStoreError extends KeyledgerError {
  /** The store kind: `embedded`, `vault`, `aws-secrets-manager`. */
  readonly store: string;
  readonly status?: number;
  /** The store's own error code (`ResourceNotFoundException`...), when it gave one. */
  readonly storeCode?: string;
  /** The store's own error texts (Vault's `errors` array), when it gave them. */
  readonly storeMessages?: string[];
  readonly retryable: boolean;

  constructor(
    code: SecretStoreErrorCode,
    store: string,
    message: string,
    options: {
      path?: string;
      status?: number;
      storeCode?: string;
      storeMessages?: string[];
      retryable?: boolean;
      cause?: unknown;
    } = {},
  ) {
    super(code, `${store}: ${message}`, {
      category: CATEGORY[code],
      details: {
        store,
        ...(options.path !== undefined ? { path: options.path } : {}),
        ...(options.status !== undefined ? { status: options.status } : {}),
        ...(options.storeCode !== undefined ? { storeCode: options.storeCode } : {}),
        ...(options.storeMessages !== undefined ? { storeMessages: options.storeMessages } : {}),
      },
      cause: options.cause,
    });
    this.store = store;
    if (options.status !== undefined) this.status = options.status;
    if (options.storeCode !== undefined) this.storeCode = options.storeCode;
    if (options.storeMessages !== undefined) this.storeMessages = options.storeMessages;
    this.retryable = options.retryable ?? code === 'E_SECRET_STORE_UNAVAILABLE';
  }
}
