// GitHub `hashed_token` attribution on both engines: tokens written through a digest-recording secret store (what
// issuance and rotation do, src/app/keyledger-app.ts) leave base64(SHA-256) digests for GitHub and nothing for a
// provider whose audit log names key ids; a GitHub audit log naming tokens only by hash then attributes to the
// entry — the current token as plain usage, the token a rotation replaced as a rotated-out key in use, a token
// nobody stored as unregistered — and the planted canary tokens appear in no table, row or result.
import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { AuditLogSource } from '../audit-logs/audit-log-input.js';
import { auditLogReaderTable } from '../audit-logs/audit-log-reader-table.js';
import { forEachBackend } from '../db/test-support/test-databases.js';
import type { KeyEntry } from '../registry/key-entry-schema.js';
import { fixedClock } from '../runtime/clock.js';
import { MasterKeyring, masterKeyFromBytes, staticMasterKeySource } from '../secrets/embedded/embedded-keyring.js';
import { EmbeddedSecretStore } from '../secrets/embedded/embedded-secret-store.js';
import { SecretValue } from '../secrets/secret-value.js';
import { ingestAuditLogs } from './audit-log-ingest.js';
import { AuditUsageStore } from './audit-usage-store.js';
import { providersWithTokenDigests, recordingTokenDigests, TokenDigestStore, tokenDigest } from './token-digests.js';

const canaryToken = () => `ghp_CANARY${randomBytes(15).toString('hex')}`;
const githubHash = (token: string) => createHash('sha256').update(token).digest('base64');

const githubRecord = (at: number, token: string, ip: string) =>
  JSON.stringify({
    '@timestamp': at,
    action: 'git.clone',
    actor: 'deploy-bot',
    actor_ip: ip,
    hashed_token: githubHash(token),
  });

const source = (text: string): AuditLogSource => ({
  name: 'github-audit.jsonl',
  async *open() {
    yield Buffer.from(text);
  },
});

describe('tokenDigest', () => {
  it("is GitHub's hashed_token: base64 of the SHA-256 of the token", () => {
    // GitHub's documentation computes it as `echo -n TOKEN | openssl dgst -sha256 -binary | base64`.
    expect(tokenDigest(new SecretValue('abc'))).toBe('ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0=');
    expect(providersWithTokenDigests()).toEqual(new Set(['github']));
  });
});

forEachBackend((backend) => {
  it('attributes hashed_token records to the entry whose token was stored, and never keeps the token', async () => {
    const store = await backend.open();
    const clock = fixedClock('2026-11-01T00:00:00Z');
    const secrets = recordingTokenDigests(
      new EmbeddedSecretStore({
        db: store.db,
        keys: staticMasterKeySource(new MasterKeyring(masterKeyFromBytes(randomBytes(32), 'test'))),
      }),
      { digests: new TokenDigestStore(store.db), providers: providersWithTokenDigests(), clock },
    );
    const first = canaryToken();
    const second = canaryToken();
    const stranger = canaryToken();
    const awsSecret = `CANARYaws${randomBytes(16).toString('hex')}`;
    // Issued, then rotated: the new token stored as pending under its own provider id.
    await secrets.put('github/deploy', new SecretValue(first), {
      stage: 'current',
      metadata: { key_id: 'payments-gh-001', provider: 'github', provider_key_id: '1001' },
    });
    clock.set('2026-11-10T00:00:00Z');
    await secrets.put('github/deploy', new SecretValue(second), {
      stage: 'pending',
      metadata: { key_id: 'payments-gh-001', provider: 'github', provider_key_id: '1002', rotation_id: 'r1' },
    });
    await secrets.promote('github/deploy');
    await secrets.put('aws/key', new SecretValue(awsSecret), {
      stage: 'current',
      metadata: { key_id: 'payments-aws-001', provider: 'aws-iam', provider_key_id: 'AKIAEXAMPLE000000001' },
    });

    const digests = await new TokenDigestStore(store.db).all();
    expect(digests.map((row) => [row.key_id, row.provider_key_id, row.digest])).toEqual([
      ['payments-gh-001', '1001', githubHash(first)],
      ['payments-gh-001', '1002', githubHash(second)],
    ]);

    const entries = [
      {
        key_id: 'payments-gh-001',
        owner_team: 'payments',
        owner_individual: 'ann@example.com',
        status: 'active',
        provider_key_id: '1002',
        scope: { provider: 'github', org: 'acme' },
      },
    ] as unknown as KeyEntry[];
    const usage = new AuditUsageStore(store.db);
    const result = await ingestAuditLogs({
      sources: [
        source(
          [
            githubRecord(Date.parse('2026-11-12T10:00:00Z'), second, '10.1.1.1'),
            githubRecord(Date.parse('2026-11-12T11:00:00Z'), second, '10.1.1.1'),
            githubRecord(Date.parse('2026-11-13T09:00:00Z'), first, '203.0.113.9'),
            githubRecord(Date.parse('2026-11-13T09:30:00Z'), stranger, '198.51.100.4'),
          ].join('\n'),
        ),
      ],
      readers: [auditLogReaderTable.github],
      entries,
      store: usage,
    });
    expect(result).toMatchObject({ records: 4, matched: 3, unregistered: 1, keysSeen: 1 });
    const rows = await usage.usageOf('payments-gh-001');
    expect(rows.map((row) => [row.day, row.source, Number(row.count)])).toEqual([
      ['2026-11-13', '203.0.113.9', 1],
      ['2026-11-12', '10.1.1.1', 2],
    ]);
    const anomalies = await usage.anomaliesOf();
    expect(anomalies.map((row) => [row.kind, row.key_id, row.credential]).sort()).toEqual([
      ['rotated-out-key-used', 'payments-gh-001', `sha256:${githubHash(first)}`],
      ['unregistered-key', null, `sha256:${githubHash(stranger)}`],
    ]);

    // The canaries: in no digest row, usage row, anomaly, or the ingest's result.
    const everything = JSON.stringify([digests, rows, anomalies, result, await usage.tokenDigests()]);
    for (const secret of [first, second, stranger, awsSecret]) {
      expect(everything).not.toContain(secret);
      expect(everything).not.toContain(Buffer.from(secret).toString('base64'));
      expect(everything).not.toContain(Buffer.from(secret).toString('hex'));
    }
    await store.close();
  });
});
