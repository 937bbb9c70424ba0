// The rotations a generated organisation has had (OrgKey.rotatedOut, org-generator.ts), written into an operational
// store as keyledger's rotator records them: through the rotation journal's own API (plan, claim, one advance per
// state, src/lifecycle/rotation/rotation-journal.ts), each step at the rotation's time, the old key's id on the
// row and the successor's id set when it was minted — so that what reads the journal (the audit-log enrichment's
// rotated-out keys, src/audit/audit-usage-store.ts) finds the history it would find after real rotations.
import type { Kysely } from 'kysely';
import type { OperationalSchema } from '../../db/operational-schema.js';
import { RotationJournal, type RotationRow } from '../../lifecycle/rotation/rotation-journal.js';
import type { RotationState } from '../../lifecycle/rotation/rotation-states.js';
import type { Organisation } from './org-model.js';
import { orgVaultPath } from './org-writer.js';

/** The states a rotation that finished passes through after `planned`, in order (rotation-states.ts). */
const FINISHED_PATH: readonly RotationState[] = [
  'minting',
  'minted',
  'stored',
  'consumers-confirmed',
  'verified',
  'promoted',
  'old-revoked',
  'registry-updated',
  'done',
];

const LEASE_MS = 5 * 60_000;

/** Writes one finished `schedule` rotation per rotated key of `org`; returns the journal rows, in `org` order. */
export async function writeOrgRotationHistory(
  db: Kysely<OperationalSchema>,
  org: Organisation,
  options: { store?: string } = {},
): Promise<RotationRow[]> {
  let now = new Date(0);
  const journal = new RotationJournal(db, () => now);
  const owner = 'org-history';
  const rows: RotationRow[] = [];
  for (const key of org.keys) {
    if (!key.rotatedOut) continue;
    now = new Date(key.rotatedOut.rotatedAt);
    const { row: planned } = await journal.plan({
      keyId: key.keyId,
      provider: key.provider,
      account: key.account,
      trigger: 'schedule',
      store: options.store ?? 'vault',
      path: orgVaultPath(key),
      oldProviderKeyId: key.rotatedOut.previousKeyId,
    });
    let row = await journal.claim(planned.rotation_id, owner, LEASE_MS);
    if (!row) throw new Error(`the journal row of ${key.keyId}'s rotation could not be claimed`);
    for (const state of FINISHED_PATH) {
      const fields = state === 'minted' ? { new_provider_key_id: key.providerKeyId } : {};
      row = await journal.advance(row, state, fields, { owner, leaseMs: LEASE_MS });
    }
    rows.push(row);
  }
  return rows;
}
