// The row types of the embedded store's tables (created by src/db/migrations/0003_embedded_secrets.ts). Kept
// here, beside the only code that reads them, rather than in the operational schema every service sees.

export interface EmbeddedSecretsTable {
  path: string;
  next_version: number;
  current_version: number | null;
  pending_version: number | null;
  previous_version: number | null;
  created_at: string;
  updated_at: string;
}

export interface EmbeddedSecretVersionsTable {
  path: string;
  version: number;
  created_at: string;
  /** JSON text of the version's non-secret labels. */
  metadata: string;
  idempotency_token: string | null;
  ciphertext: string;
  wrapped_key: string;
  master_key_id: string;
  envelope_format: number;
}

export interface EmbeddedSecretsSchema {
  embedded_secrets: EmbeddedSecretsTable;
  embedded_secret_versions: EmbeddedSecretVersionsTable;
}
