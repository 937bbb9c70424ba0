// The one shape every audit-log reader produces: who used which key, from where, to do what, and whether it
// worked. Readers (one folder each, see audit-log-reader-table.ts) map their provider's own record onto it; the
// enrichment joins it to the registry by `credential`. It never holds key material: providers log key ids or
// hashes of tokens, and a reader keeps only those.

/** How a record names the credential that made the call. At least one field is set. */
export interface AuditLogCredential {
  /** The provider's id of the key: an AWS access key id, a GCP key id, an Entra keyId, a Datadog key id... */
  providerKeyId?: string;
  /** GitHub's `hashed_token`: base64 of the SHA-256 of the raw token (44 characters). */
  hashedToken?: string;
  /** A short-lived credential the provider derived from another (AWS STS `ASIA...`): never a registry key. */
  temporary?: boolean;
}

export interface AuditLogRecord {
  /** The reader that produced it (its format name). */
  format: string;
  /** The provider as the registry names it in `scope.provider`. */
  provider: string;
  /** When the call happened, ISO-8601 UTC. */
  at: string;
  /** The credential used, when the record names one; records without one still count for per-principal usage. */
  credential?: AuditLogCredential;
  /** Who the provider says acted: an IAM user or role ARN, a service account email, a GitHub login, an app id. */
  principal?: string;
  /** The caller's IP address; never a service name. */
  sourceIp?: string;
  /** A provider service that acted on the caller's behalf (CloudTrail's `sourceIPAddress: iam.amazonaws.com`). */
  viaService?: string;
  /** The provider's action name: `eventName`, `methodName`, `action`, `type`. */
  action: string;
  outcome: 'success' | 'failure';
  /** The provider's error code when the call failed. */
  errorCode?: string;
  userAgent?: string;
  /** The key an action was about (created, deleted, rotated) when the record names one: creator evidence. */
  subjectKeyId?: string;
  /** The provider's id of the record, for deduplication across overlapping exports. */
  recordId?: string;
}

/** A record the reader could not use: where it was and why. Never the record's text (it may hold anything). */
export interface AuditLogProblem {
  /** The file (or `-` for standard input). */
  source: string;
  /** 1-based position of the record in its source. */
  index: number;
  /** Line of the record's start in the (decompressed) input, when known. */
  line?: number;
  message: string;
}

export type AuditLogItem = { record: AuditLogRecord } | { problem: AuditLogProblem } | { skipped: true };
