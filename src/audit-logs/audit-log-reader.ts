// The interface every audit-log reader implements, one folder each under src/audit-logs/<format>/. A reader
// knows one provider's record shape; cutting files into records (json-record-stream.ts) and opening files,
// folders, gzip and standard input (audit-log-input.ts) are shared.
import type { JsonRecord } from './audit-log-fields.js';
import type { AuditLogRecord } from './audit-log-record.js';

export interface AuditLogReader {
  /** The name `--format` takes, and the `format` of the records it produces. */
  readonly format: string;
  /** The provider as the registry names it (`scope.provider`). */
  readonly provider: string;
  /** One line for `keyledger audit-log formats`. */
  readonly description: string;
  /** Keys of the envelope objects this provider's exports and API pages wrap records in. */
  readonly envelopeKeys: readonly string[];
  /**
   * How this format names a token when it does not log the key's id: `sha256-base64` (GitHub's `hashed_token`).
   * keyledger then keeps that digest of every token it stores for `provider` (src/audit/token-digests.ts).
   */
  readonly tokenHash?: 'sha256-base64';
  /** True when the record has this format's shape (for `--format auto`); cheap, no allocation. */
  recognises(record: JsonRecord): boolean;
  /**
   * The record in the common shape, or a string saying why it cannot be used (a required field missing or
   * malformed). Never throws on bad input.
   */
  read(record: JsonRecord): AuditLogRecord | string;
}
