// Self-service key requests (the lifecycle's Step 2 portal): a request is checked against the registry policy
// exactly as `keyledger issue` checks it (the issuer's draft entry through assertIssueDraft) before it is kept;
// a request for broad permissions (the policy's forbidden_permissions) waits for the security role, who sees the
// justification; anything else is issued at once. Issuance goes through src/lifecycle/key-issuance.ts with an
// idempotency key per request, so an approval retried after a crash returns the first result instead of minting again.
import { randomUUID } from 'node:crypto';
import { KeyledgerError } from '../errors/keyledger-error.js';
import { assertIssueDraft } from '../lifecycle/issuance-steps.js';
import { generateKeyId, type IssueKeyRequest } from '../lifecycle/key-issuance.js';
import { compilePolicy } from '../registry/policy/policy-engine.js';
import type { Clock } from '../runtime/clock.js';
import type { ServerContext } from '../server/server-module.js';
import type { KeyRequestsTable, WebDb } from './web-schema.js';

export interface KeyRequestInput {
  requester: string;
  team: string;
  provider: string;
  purpose: string;
  permissions: string[];
  justification?: string | undefined;
  account?: string | undefined;
  expiresInDays?: number | undefined;
}

export type KeyRequestRow = KeyRequestsTable;

export class KeyRequests {
  readonly #db: WebDb;
  readonly #app: ServerContext['app'];
  readonly #clock: Clock;

  constructor(db: WebDb, app: ServerContext['app'], clock: Clock) {
    this.#db = db;
    this.#app = app;
    this.#clock = clock;
  }

  #issueRequest(input: KeyRequestInput, actor: string, requestId?: string): IssueKeyRequest {
    return {
      provider: input.provider,
      team: input.team,
      owner: input.requester,
      purpose: input.purpose,
      permissions: input.permissions,
      actor,
      ...(input.account ? { account: input.account } : {}),
      ...(input.expiresInDays ? { expiresInDays: input.expiresInDays } : {}),
      ...(input.justification ? { justification: input.justification } : {}),
      ...(requestId ? { idempotencyKey: `key-request:${requestId}` } : {}),
    };
  }

  /** Throws the issuer's policy error (E_POLICY, with the violations) for a request `issue` would refuse. */
  check(input: KeyRequestInput): { broad: string[] } {
    const now = this.#clock();
    const { workspace } = this.#app;
    if (!this.#app.configuredProviders().includes(input.provider))
      throw new KeyledgerError('E_PROVIDER_CONFIG', `provider "${input.provider}" is not configured here`, {
        category: 'input',
      });
    const request = this.#issueRequest(input, input.requester);
    const { entry } = this.#app.issuer().draftEntry(request, generateKeyId(request), now);
    assertIssueDraft(entry, {
      policy: workspace.config.policy,
      now,
      ...(workspace.people ? { people: workspace.people } : {}),
    });
    const policy = compilePolicy(workspace.config.policy, now, workspace.people);
    return { broad: input.permissions.filter((permission) => policy.isForbiddenPermission(permission)) };
  }

  async create(input: KeyRequestInput, status: 'pending' | 'approved'): Promise<KeyRequestRow> {
    const now = this.#clock().toISOString();
    const row: KeyRequestRow = {
      request_id: randomUUID(),
      requester: input.requester,
      team: input.team,
      provider: input.provider,
      purpose: input.purpose,
      permissions: JSON.stringify(input.permissions),
      justification: input.justification ?? null,
      account: input.account ?? null,
      expires_in_days: input.expiresInDays ?? null,
      status,
      decided_by: null,
      decided_at: null,
      decision_note: null,
      key_id: null,
      failure: null,
      created_at: now,
      updated_at: now,
    };
    await this.#db.insertInto('key_requests').values(row).execute();
    return row;
  }

  async get(requestId: string): Promise<KeyRequestRow | undefined> {
    return this.#db.selectFrom('key_requests').selectAll().where('request_id', '=', requestId).executeTakeFirst();
  }

  async list(filter: { status?: KeyRequestRow['status']; limit?: number } = {}): Promise<KeyRequestRow[]> {
    let query = this.#db.selectFrom('key_requests').selectAll();
    if (filter.status) query = query.where('status', '=', filter.status);
    return query
      .orderBy('created_at', 'desc')
      .limit(filter.limit ?? 200)
      .execute();
  }

  /** Marks a pending request decided; false when someone else decided it first. */
  async decide(requestId: string, decision: 'approved' | 'rejected', by: string, note?: string): Promise<boolean> {
    const now = this.#clock().toISOString();
    const result = await this.#db
      .updateTable('key_requests')
      .set({ status: decision, decided_by: by, decided_at: now, decision_note: note ?? null, updated_at: now })
      .where('request_id', '=', requestId)
      .where('status', '=', 'pending')
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  /** Issues an approved request's key; the row records the key id, or why it failed (retryable: same idempotency key). */
  async issue(row: KeyRequestRow, actor: string): Promise<KeyRequestRow> {
    const input = inputOf(row);
    try {
      const issued = await this.#app.issuer().issue(this.#issueRequest(input, actor, row.request_id));
      await this.#update(row.request_id, { status: 'issued', key_id: issued.keyId, failure: null });
    } catch (error) {
      const message = error instanceof KeyledgerError ? error.message : 'issuance failed unexpectedly';
      await this.#update(row.request_id, { status: 'failed', failure: message });
    }
    return (await this.get(row.request_id))!;
  }

  async #update(requestId: string, fields: Partial<KeyRequestRow>): Promise<void> {
    await this.#db
      .updateTable('key_requests')
      .set({ ...fields, updated_at: this.#clock().toISOString() })
      .where('request_id', '=', requestId)
      .execute();
  }
}

export function inputOf(row: KeyRequestRow): KeyRequestInput {
  return {
    requester: row.requester,
    team: row.team,
    provider: row.provider,
    purpose: row.purpose,
    permissions: JSON.parse(row.permissions) as string[],
    justification: row.justification ?? undefined,
    account: row.account ?? undefined,
    expiresInDays: row.expires_in_days ?? undefined,
  };
}
