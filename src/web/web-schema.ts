// The row types of the dashboard's tables (migration src/db/migrations/0016_web.ts), kept beside the dashboard
// and joined to the operational schema with Kysely's `withTables` (webDb below).
import type { Kysely } from 'kysely';
import type { OperationalSchema } from '../db/operational-schema.js';

export interface WebSessionsTable {
  token_hash: string;
  /** JSON text of the Principal. */
  principal: string;
  csrf_token: string;
  created_at: string;
  expires_at: string;
}

export interface WebLoginStatesTable {
  state: string;
  nonce: string;
  code_verifier: string;
  return_to: string;
  expires_at: string;
}

export type KeyRequestStatus = 'pending' | 'approved' | 'rejected' | 'issued' | 'failed';

export interface KeyRequestsTable {
  request_id: string;
  requester: string;
  team: string;
  provider: string;
  purpose: string;
  /** JSON text array. */
  permissions: string;
  justification: string | null;
  account: string | null;
  expires_in_days: number | null;
  status: KeyRequestStatus;
  decided_by: string | null;
  decided_at: string | null;
  decision_note: string | null;
  key_id: string | null;
  failure: string | null;
  created_at: string;
  updated_at: string;
}

export type TriageStatus = 'open' | 'assigned' | 'false-positive' | 'rotating';

export interface FindingTriageTable {
  finding_id: string;
  key_id: string | null;
  status: TriageStatus;
  assignee: string | null;
  note: string | null;
  updated_by: string;
  updated_at: string;
}

// A type alias, not an interface: Kysely's withTables wants an index-signature-compatible record.
export type WebSchema = {
  web_sessions: WebSessionsTable;
  web_login_states: WebLoginStatesTable;
  key_requests: KeyRequestsTable;
  finding_triage: FindingTriageTable;
};

export type WebDb = Kysely<OperationalSchema & WebSchema>;

/** The operational store seen with the dashboard's tables. */
export function webDb(db: Kysely<OperationalSchema>): WebDb {
  return db.withTables<WebSchema>();
}
