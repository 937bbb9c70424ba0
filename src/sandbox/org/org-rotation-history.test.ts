// The organisation's rotation history lands in the journal as the rotator leaves it: one finished row per rotated
// key, the replaced key on it, finished at the rotation's time — which is what the audit-log enrichment reads as
// rotated-out keys (src/audit/audit-usage-store.ts). Both engines.
import { describe, expect, it } from 'vitest';
import { AuditUsageStore } from '../../audit/audit-usage-store.js';
import { forEachBackend } from '../../db/test-support/test-databases.js';
import { RotationJournal } from '../../lifecycle/rotation/rotation-journal.js';
import { generateOrg } from './org-generator.js';
import { writeOrgRotationHistory } from './org-rotation-history.js';

forEachBackend((backend) =>
  describe('writeOrgRotationHistory', () => {
    it("writes one done rotation per rotated key, which the enrichment's journal read finds", async () => {
      const store = await backend.open();
      const org = generateOrg({ profile: 'small', seed: 7 });
      const rotated = org.keys.filter((key) => key.rotatedOut);
      expect(rotated.length).toBeGreaterThan(0);
      const rows = await writeOrgRotationHistory(store.db, org);
      expect(rows.map((row) => [row.key_id, row.state, row.old_provider_key_id, row.new_provider_key_id])).toEqual(
        rotated.map((key) => [key.keyId, 'done', key.rotatedOut!.previousKeyId, key.providerKeyId]),
      );
      // Nothing left open, no lease held.
      expect(await new RotationJournal(store.db, () => new Date()).unfinished()).toEqual([]);
      expect(await new AuditUsageStore(store.db).rotatedOutKeys()).toEqual(
        rotated.map((key) => ({
          keyId: key.keyId,
          provider: 'aws-iam',
          providerKeyId: key.rotatedOut!.previousKeyId,
          endedAt: new Date(key.rotatedOut!.rotatedAt).toISOString(),
        })),
      );
    });
  }),
);
