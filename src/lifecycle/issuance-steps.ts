// What single issuance (key-issuance.ts) and bulk issuance (bulk-key-issuance.ts) share: the policy check of a
// drafted entry before anything is minted, the mint-and-store steps, and the compensation that undoes a half-done
// issuance, newest first.
import type { PeopleDirectory } from '../directory/people-directory.js';
import { KeyledgerError, UsageError } from '../errors/keyledger-error.js';
import type { EventLog } from '../events/event-log.js';
import type { CreatedKey, Provider } from '../providers/provider.js';
import type { KeyEntryInput } from '../registry/key-entry-schema.js';
import { keyEntrySchema } from '../registry/key-entry-schema.js';
import { checkEntry, compilePolicy } from '../registry/policy/policy-engine.js';
import type { PolicyContext } from '../registry/policy/policy-rules.js';
import type { PolicyConfig } from '../registry/registry-config.js';
import type { RegistryWriter } from '../registry/registry-writer.js';
import type { SecretStore } from '../secrets/secret-store.js';
import type { RollbackStep } from './lifecycle-error.js';

/** What a run has done so far, recorded against the idempotency key (no secret in it). */
export interface IssueProgress {
  keyId: string;
  provider: string;
  providerKeyId?: string;
  account?: string;
  stored?: { name: string; path: string };
  registered?: boolean;
}

/** The parts of an issue request the mint-and-store steps read. */
export interface MintRequest {
  provider: string;
  account?: string;
  permissions: string[];
  providerOptions?: Record<string, unknown>;
  idempotencyKey?: string;
}

/**
 * Mints the key at its provider and stores its secret as `current`, recording each step in `progress` (what the
 * rollback reads) and through `record` (against the idempotency key) before the next effect. `onStep` is told the
 * step under way, so a failure names it. Registering the entry is the caller's: one commit or a batch.
 */
export async function mintAndStore(input: {
  keyId: string;
  request: MintRequest;
  provider: Provider;
  secretStore: SecretStore;
  store: { name: string; path: string };
  expiresAt: Date;
  progress: IssueProgress;
  record: () => Promise<void>;
  onStep: (step: 'store') => void;
}): Promise<CreatedKey> {
  const { keyId, request, progress } = input;
  const created = await input.provider.create({
    name: keyId,
    ...(request.account ? { account: request.account } : {}),
    permissions: request.permissions,
    expiresAt: input.expiresAt,
    ...(request.providerOptions ? { options: request.providerOptions } : {}),
  });
  progress.providerKeyId = created.providerKeyId;
  if (created.account) progress.account = created.account;
  input.onStep('store');
  await input.record();
  await input.secretStore.put(input.store.path, created.secret, {
    stage: 'current',
    metadata: { key_id: keyId, provider: request.provider, provider_key_id: created.providerKeyId },
    ...(request.idempotencyKey ? { idempotencyToken: `issue-${request.idempotencyKey}` } : {}),
  });
  progress.stored = input.store;
  return created;
}

/** A field of the drafted entry that the schema refuses, or a policy rule it breaks (`rule` set). */
export interface IssueDraftProblem {
  /** The path inside the entry, e.g. ['scope', 'permissions', 0]. */
  path: PropertyKey[];
  message: string;
  rule?: string;
}

/** The problems that stop `entry` from being issued: schema errors, else policy errors. Empty when it may be. */
export function issueDraftProblems(entry: KeyEntryInput, policy: PolicyContext): IssueDraftProblem[] {
  const parsed = parseDraft(entry);
  if (!parsed.success) return parsed.error.issues.map((issue) => ({ path: issue.path, message: issue.message }));
  return checkEntry(parsed.data, policy)
    .filter((violation) => violation.severity === 'error')
    .map((violation) => ({ path: violation.path, message: violation.message, rule: violation.rule }));
}

/** The fingerprint exists only after minting; a placeholder stands in for it in the schema check. */
function parseDraft(entry: KeyEntryInput) {
  return keyEntrySchema.safeParse({ ...entry, fingerprint: `hmac-sha256:v1:${'0'.repeat(64)}` });
}

/** Throws the error single issuance has always thrown for a drafted entry that may not be issued. */
export function assertIssueDraft(
  entry: KeyEntryInput,
  options: { policy: PolicyConfig; now: Date; people?: PeopleDirectory },
): void {
  const parsed = parseDraft(entry);
  if (!parsed.success) {
    throw new UsageError(
      `the entry to issue is invalid: ${parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ')}`,
    );
  }
  const violations = checkEntry(parsed.data, compilePolicy(options.policy, options.now, options.people)).filter(
    (violation) => violation.severity === 'error',
  );
  if (violations.length) {
    throw new KeyledgerError(
      'E_POLICY',
      `refusing to issue ${String(entry.key_id)}: ${violations.map((v) => `${v.rule}: ${v.message}`).join('; ')}`,
      {
        category: 'input',
        details: { violations },
      },
    );
  }
}

export interface IssuanceRollbackDependencies {
  providers: (name: string) => Provider;
  stores: (name: string) => SecretStore;
  writer: RegistryWriter;
  events: EventLog;
}

/** Undoes a run's recorded steps, newest first; reports each, and keeps going past a failed one. */
export async function rollBackIssuance(
  deps: IssuanceRollbackDependencies,
  progress: IssueProgress,
  actor: string,
  reason: string,
): Promise<RollbackStep[]> {
  const steps: RollbackStep[] = [];
  const attempt = async (step: RollbackStep['step'], description: string, undo: () => Promise<unknown>) => {
    try {
      await undo();
      steps.push({ step, description, ok: true });
    } catch (error) {
      steps.push({ step, description, ok: false, error: error instanceof Error ? error.message : String(error) });
    }
  };
  if (progress.registered || (await deps.writer.fileOf(progress.keyId).catch(() => undefined))) {
    await attempt('registry-entry', `removed registry entry ${progress.keyId}`, () =>
      deps.writer.delete(progress.keyId, { message: `Rolled back: ${reason}` }),
    );
  }
  if (progress.stored) {
    const { name, path } = progress.stored;
    await attempt('secret-store', `deleted the secret at ${name}:${path}`, () => deps.stores(name).delete(path));
  }
  if (progress.providerKeyId) {
    const ref = { providerKeyId: progress.providerKeyId, ...(progress.account ? { account: progress.account } : {}) };
    await attempt('provider-key', `revoked ${progress.provider} key ${progress.providerKeyId}`, () =>
      deps.providers(progress.provider).revoke(ref),
    );
  }
  await deps.events
    .append({
      type: 'issue-rolled-back',
      actor,
      keyId: progress.keyId,
      data: { reason, steps: steps.map(({ step, ok, description }) => ({ step, ok, description })) },
    })
    .catch(() => undefined);
  return steps;
}
