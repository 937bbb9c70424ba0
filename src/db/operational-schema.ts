// The row types of the operational store, one interface per table, shared by SQLite and PostgreSQL. Portable
// types only: timestamps are ISO-8601 UTC text (`2026-04-01T10:00:00.000Z`, which sorts as it reads), JSON is
// text, sequence numbers are integers (bigint on PostgreSQL, parsed to number by the store).
import type { Generated } from 'kysely';

/** One action in the hash-chained event log (src/events/). Rows are never updated or deleted. */
export interface EventsTable {
  /** 1, 2, 3... without gaps; the chain order. */
  seq: number;
  /** A random UUID, so an event can be named outside the store. */
  id: string;
  /** ISO-8601 UTC text. */
  at: string;
  type: string;
  actor: string;
  key_id: string | null;
  /** Canonical JSON text of the event's data object. */
  data: string;
  /** The previous row's hash; 64 zeros for the first row. */
  prev_hash: string;
  /** `hmac-sha256:<key version>:<hex>` of the canonical JSON of the row, or plain hex SHA-256 for rows written
   * before the log was keyed (src/events/event-hash.ts). */
  hash: string;
}

export type IdempotencyStatus = 'in_progress' | 'completed' | 'failed';

/** What a retried command (`keyledger issue --idempotency-key K`) finds when it runs again. */
export interface IdempotencyRecordsTable {
  idempotency_key: string;
  command: string;
  /** A hash of the request, so a reused key with a different request is refused rather than replayed. */
  request_hash: string;
  status: IdempotencyStatus;
  /** JSON text of the result (or the error) once the command finished; null while in progress. */
  result: string | null;
  created_at: string;
  updated_at: string;
}

/** A key of the `internal` provider (src/providers/internal/): its keyed hash, never the key. */
export interface InternalKeysTable {
  /** `ik_` + 16 hex: the provider key id the registry records. */
  id: string;
  name: string;
  account: string | null;
  environment: string;
  /** HMAC-SHA256 (hex) of the key under the organisation's verification key. */
  key_hash: string;
  /** JSON text: the permissions granted. */
  permissions: string;
  status: 'active' | 'revoked';
  created_at: string;
  expires_at: string | null;
  last_used_at: string | null;
  revoked_at: string | null;
}

/** One rotation of a key and how far it got (src/lifecycle/rotation/rotation-journal.ts). Never a secret. */
export interface RotationJournalTable {
  rotation_id: string;
  key_id: string;
  provider: string;
  account: string | null;
  /** Why it rotates: schedule, expiry, owner-left, leak, manual, policy. */
  trigger: string;
  /** A RotationState (rotation-states.ts). */
  state: string;
  store: string;
  path: string;
  old_provider_key_id: string | null;
  /** The label the new key is minted under, so an orphan can be found by name after a crash. */
  new_key_name: string;
  new_provider_key_id: string | null;
  new_version_id: string | null;
  fingerprint: string | null;
  failure: string | null;
  rollback_reason: string | null;
  attempts: number;
  lease_owner: string | null;
  lease_expires_at: string | null;
  /** Earliest start (a spread rotation window) or the next retry after a transient failure. */
  not_before: string | null;
  state_entered_at: string;
  created_at: string;
  updated_at: string;
  /** The key lock's token this row's lease was taken under (migration 0017): an advance under another is refused. */
  fence_token: Generated<number>;
}

/** One per-key lock (migration 0017, src/lifecycle/key-locks.ts): who holds the key, under which fencing token. */
export interface KeyLocksTable {
  key_id: string;
  holder: string | null;
  /** Grows by one at every acquisition or take-over, never goes back. */
  token: number;
  operation: string | null;
  operation_id: string | null;
  expires_at: string | null;
  updated_at: string;
}

/** One rotation ticket for a key whose provider has no issuance API (src/tickets/). */
export interface RotationTicketsTable {
  dedupe_key: string;
  key_id: string;
  sink: string;
  state: 'opening' | 'open' | 'closed';
  external_id: string | null;
  url: string | null;
  due_at: string;
  escalated_at: string | null;
  created_at: string;
  updated_at: string;
}

/** One `keyledger revoke` and how far it got (src/lifecycle/revocation-journal.ts). Never a secret. */
export interface RevocationJournalTable {
  revocation_id: string;
  key_id: string;
  provider: string;
  state: 'pending' | 'done';
  actor: string;
  reason: string | null;
  /** JSON text: `[{ step, description, done }]`, in the order they run. */
  plan: string;
  /** Why the last attempt stopped, while pending. */
  failure: string | null;
  created_at: string;
  updated_at: string;
}

/** Audit-log usage, aggregated per key, day, source, principal and outcome (src/audit/audit-usage-store.ts). */
export interface AuditUsageTable {
  provider: string;
  /** The provider's key id, or `sha256:` + a hashed token; never a secret. */
  credential: string;
  /** YYYY-MM-DD (UTC). */
  day: string;
  /** The caller's IP, or `via:<service>` when a provider service acted, or '' when the record names neither. */
  source: string;
  principal: string;
  outcome: 'success' | 'failure';
  /** The registry entry the credential belongs to; null for an unregistered key. */
  key_id: string | null;
  /** The team whose declared sources hold `source`, when one does. */
  source_team: string | null;
  count: number;
  first_at: string;
  last_at: string;
  /**
   * The last use in this row made while the credential was its entry's current key (not a stolen-key signal); null
   * when every use was one, or the key has no entry. What an entry's last observed use is read from (migration 0024).
   */
  last_current_at: string | null;
}

/** One anomaly found in audit logs, counted per kind, credential and source (src/audit/audit-log-enrichment.ts). */
export interface AuditAnomaliesTable {
  kind: string;
  provider: string;
  credential: string;
  source: string;
  key_id: string | null;
  owner_team: string | null;
  detail: string;
  count: number;
  first_at: string;
  last_at: string;
}

/** The SHA-256 of a stored token, for providers whose audit logs name tokens by it (src/audit/token-digests.ts). */
export interface TokenDigestsTable {
  /** base64 of the SHA-256 of the token; never the token. */
  digest: string;
  provider: string;
  key_id: string;
  provider_key_id: string | null;
  recorded_at: string;
}

/** A key as a provider listed it in discovery (src/audit/key-discovery.ts): everything but the secret. */
export interface DiscoveredKeysTable {
  provider: string;
  provider_key_id: string;
  account: string | null;
  name: string | null;
  status: string;
  created_at: string | null;
  created_by: string | null;
  last_used_at: string | null;
  /** JSON text array, or null when the provider does not list them. */
  permissions: string | null;
  first_seen_at: string;
  last_seen_at: string;
  /** When a complete listing of the provider stopped showing the key; null while it is there. */
  gone_at: string | null;
  /** The user the key acts as when its account is not that user (ProviderKey.holder; migration 0020). */
  holder?: string | null;
}

/** A secret seen in a place keys hide (src/discovery-sources/), recorded by src/audit/key-observations.ts. */
export interface KeyObservationsTable {
  source: string;
  scope: string;
  location: string;
  name: string;
  key_id: string | null;
  provider: string | null;
  provider_key_id: string | null;
  principal: string | null;
  created_at: string | null;
  updated_at: string | null;
  last_used_at: string | null;
  /** JSON text object, or null. */
  detail: string | null;
  first_seen_at: string;
  last_seen_at: string;
  gone_at: string | null;
}

/** One team's part of a `keyledger split` (src/lifecycle/key-split.ts). */
export interface KeySplitsTable {
  shared_key_id: string;
  team: string;
  new_key_id: string;
  state: string;
  detail: string | null;
  actor: string;
  started_at: string;
  updated_at: string;
}

/** One quarterly audit (src/audit/quarterly-audit.ts), kept so the next one reports what changed. */
export interface AuditReportsTable {
  id: string;
  as_of: string;
  generated_at: string;
  /** JSON text: headline counts, counts per class and per team. */
  summary: string;
  /** `class<TAB>key_id` per line. */
  findings: string;
}

/** A person of the directory (src/directory/directory-store.ts), as the identity sources report them. */
export interface DirectoryPeopleTable {
  id: string;
  /** Creation order, the stable order of listings. */
  seq: number;
  /** Lower-cased. */
  email: string;
  user_name: string | null;
  /** Lower-cased user_name, unique. */
  user_name_key: string | null;
  external_id: string | null;
  display_name: string | null;
  team: string | null;
  manager_email: string | null;
  status: 'active' | 'suspended' | 'deprovisioned';
  status_changed_at: string | null;
  source: string;
  /** JSON text: the SCIM resource's other attributes (never a password). */
  resource: string;
  created_at: string;
  updated_at: string;
  version: number;
}

/** A SCIM group (src/directory/directory-groups.ts). */
export interface DirectoryGroupsTable {
  id: string;
  display_name: string;
  external_id: string | null;
  created_at: string;
  updated_at: string;
  version: number;
}

export interface DirectoryGroupMembersTable {
  group_id: string;
  person_id: string;
}

/** One status signal heard from a source, kept whether or not it changed anything. */
export interface DirectorySignalsTable {
  signal_id: string;
  source: string;
  email: string;
  status: string;
  at: string;
  received_at: string;
  person_id: string;
  effect: 'applied' | 'unchanged' | 'stale';
  /** 1 while a departure's listeners have not all run. */
  departure_pending: number;
}

/** The SHA-256 of an identity provider's bearer secret (src/directory/idp-credentials.ts). */
export interface IdpCredentialsTable {
  name: string;
  secret_sha256: string;
  created_at: string;
  created_by: string;
}

/** What an API token may do (src/server/auth/api-tokens.ts); the token is the registry key `key_id`. */
export interface ApiTokensTable {
  key_id: string;
  team: string;
  role: string;
  /** JSON text array of scopes. */
  scopes: string;
  created_at: string;
  created_by: string;
}

/** An event-hook delivery queued for processing (src/idp/okta-event-hook/). */
export interface IdpHookDeliveriesTable {
  event_id: string;
  source: string;
  event_type: string;
  email: string;
  status: string;
  at: string;
  external_id: string | null;
  received_at: string;
  processed_at: string | null;
}

/** A request budget shared by the replicas of a fleet (migration 0026, src/db/shared-rate-budget.ts). */
export interface RateBudgetsTable {
  /** `provider:<name>`. */
  budget: string;
  /** Tokens left at `counted_at_ms`; fractional. */
  tokens: number;
  /** Milliseconds since the epoch, by the database's clock. */
  counted_at_ms: number;
  /** Tokens the last draw granted. */
  last_granted: number;
}

/** An admin-managed team record (migration 0019, src/directory/team-records.ts). */
export interface TeamsTable {
  slug: string;
  display_name: string;
  description: string | null;
  contact: string | null;
  created_at: string;
  created_by: string;
  updated_at: string;
  updated_by: string;
  version: number;
}

/** A person in a team record: `member` or `lead`. */
export interface TeamMembersTable {
  team: string;
  email: string;
  role: string;
  added_at: string;
  added_by: string;
}

/** A person granted the `security` or `admin` role by an admin. */
export interface RoleGrantsTable {
  email: string;
  role: string;
  granted_at: string;
  granted_by: string;
}

/** A background job (src/jobs/job-queue.ts): payload JSON, never a secret; state queued -> running -> done | failed. */
export interface JobsTable {
  job_id: string;
  kind: string;
  payload: string;
  state: 'queued' | 'running' | 'done' | 'failed';
  run_at: string;
  attempts: number;
  max_attempts: number;
  dedupe_key: string | null;
  lease_owner: string | null;
  lease_expires_at: string | null;
  result: string | null;
  failure: string | null;
  created_at: string;
  updated_at: string;
  finished_at: string | null;
}

/** One row per (schedule, tick) taken by some replica: a scheduled job runs once per tick across the fleet. */
export interface JobTicksTable {
  schedule: string;
  tick: string;
  job_id: string;
  replica_id: string;
  created_at: string;
}

/** A `keyledger server` replica's heartbeat (src/jobs/replica-heartbeats.ts). */
export interface ReplicasTable {
  replica_id: string;
  host: string;
  pid: number;
  url: string | null;
  /** 1 when it runs a job worker. */
  worker: number;
  started_at: string;
  beat_at: string;
  stopped_at: string | null;
}

/** An audit-log file a scheduled ingest has counted (migration 0025, src/audit/audit-log-files.ts). */
export interface AuditLogFilesTable {
  path: string;
  bytes: number;
  /** The file's modification time when it was read (ISO 8601). */
  modified_at: string;
  ingested_at: string;
}

/**
 * Every table of the operational store. A new table adds its interface and one line here, beside the migration
 * that creates it (src/db/README.md).
 */
export interface OperationalSchema {
  events: EventsTable;
  idempotency_records: IdempotencyRecordsTable;
  internal_keys: InternalKeysTable;
  rotation_journal: RotationJournalTable;
  key_locks: KeyLocksTable;
  rotation_tickets: RotationTicketsTable;
  revocation_journal: RevocationJournalTable;
  audit_usage: AuditUsageTable;
  audit_anomalies: AuditAnomaliesTable;
  audit_reports: AuditReportsTable;
  discovered_keys: DiscoveredKeysTable;
  key_observations: KeyObservationsTable;
  key_splits: KeySplitsTable;
  directory_people: DirectoryPeopleTable;
  directory_groups: DirectoryGroupsTable;
  directory_group_members: DirectoryGroupMembersTable;
  directory_signals: DirectorySignalsTable;
  idp_credentials: IdpCredentialsTable;
  idp_hook_deliveries: IdpHookDeliveriesTable;
  api_tokens: ApiTokensTable;
  token_digests: TokenDigestsTable;
  teams: TeamsTable;
  team_members: TeamMembersTable;
  role_grants: RoleGrantsTable;
  jobs: JobsTable;
  job_ticks: JobTicksTable;
  replicas: ReplicasTable;
  rate_budgets: RateBudgetsTable;
  audit_log_files: AuditLogFilesTable;
}
