import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { forEachBackend } from '../db/test-support/test-databases.js';
import { runGit } from '../git/git-command.js';
import type { ProviderKey } from '../providers/provider.js';
import { analyzeEntryText } from '../registry/entry-analysis.js';
import { fingerprintMatches } from '../secrets/secret-fingerprint.js';
import { BASE_REQUEST, issuanceHarness } from './test-support/issuance-harness.js';

async function activeKeys(keys: AsyncIterable<ProviderKey>): Promise<ProviderKey[]> {
  const found: ProviderKey[] = [];
  for await (const key of keys) if (key.status === 'active') found.push(key);
  return found;
}

async function registryFiles(root: string): Promise<string[]> {
  return readdir(join(root, 'keys')).catch(() => []);
}

forEachBackend((backend) => {
  it('issues: mints, stores, registers as one commit with a fingerprint, and logs the event', async () => {
    const h = await issuanceHarness(await backend.open());
    const issued = await h.issuer.issue({ ...BASE_REQUEST, keyId: 'payments-webhooks-001', expiresInDays: 90 });
    expect(issued).toMatchObject({
      keyId: 'payments-webhooks-001',
      provider: 'internal',
      store: 'default',
      path: 'payments/payments-webhooks-001',
      replayed: false,
    });
    const stored = await h.store.get(issued.path);
    expect(stored?.metadata).toMatchObject({ key_id: 'payments-webhooks-001', provider_key_id: issued.providerKeyId });
    expect(await h.internal.verify(stored!.value)).toMatchObject({ valid: true, providerKeyId: issued.providerKeyId });
    const text = await readFile(join(h.root, issued.file), 'utf8');
    const entry = analyzeEntryText(issued.file, text).entry!;
    expect(entry).toMatchObject({
      owner_team: 'payments',
      provider_key_id: issued.providerKeyId,
      expiration: '2027-02-21T12:00:00Z',
      status: 'active',
    });
    expect(fingerprintMatches(stored!.value, entry.fingerprint!, h.fingerprintKey)).toBe(true);
    expect(text).not.toContain(stored!.value.reveal());
    expect((await runGit(['log', '-1', '--format=%s'], { cwd: h.root })).trim()).toBe(
      'keyledger: create payments-webhooks-001',
    );
    const [event] = await h.events.list({ type: 'issued' });
    expect(event).toMatchObject({
      keyId: 'payments-webhooks-001',
      actor: 'test:suite',
      data: { provider_key_id: issued.providerKeyId, commit: issued.commit },
    });
  });

  it('refuses before minting when the entry would break the policy', async () => {
    const h = await issuanceHarness(await backend.open());
    await expect(h.issuer.issue({ ...BASE_REQUEST, permissions: ['*'] })).rejects.toMatchObject({ code: 'E_POLICY' });
    await expect(h.issuer.issue({ ...BASE_REQUEST, expiresInDays: 400 })).rejects.toMatchObject({
      code: 'E_POLICY',
      message: /max-lifetime/,
    });
    expect(await activeKeys(h.internal.list())).toEqual([]);
  });

  it('refuses a key_id that exists and a store path that is taken, before minting', async () => {
    const h = await issuanceHarness(await backend.open());
    await h.issuer.issue({ ...BASE_REQUEST, keyId: 'k-1' });
    await expect(h.issuer.issue({ ...BASE_REQUEST, keyId: 'k-1' })).rejects.toMatchObject({
      code: 'E_REGISTRY_DUPLICATE',
    });
    await expect(
      h.issuer.issue({ ...BASE_REQUEST, keyId: 'k-2', store: { name: 'default', path: 'payments/k-1' } }),
    ).rejects.toMatchObject({
      code: 'E_SECRET_PATH_TAKEN',
    });
    expect(await activeKeys(h.internal.list())).toHaveLength(1);
  });

  it('a provider failure leaves nothing behind', async () => {
    const h = await issuanceHarness(await backend.open());
    h.faults.providerCreate = true;
    await expect(h.issuer.issue({ ...BASE_REQUEST, keyId: 'k-1' })).rejects.toThrow(/provider create refused/);
    expect(await registryFiles(h.root)).toEqual([]);
    expect(await h.store.exists('payments/k-1')).toBe(false);
  });

  it('a store failure revokes the minted key, and says so', async () => {
    const h = await issuanceHarness(await backend.open());
    h.faults.storePut = true;
    const error = await h.issuer.issue({ ...BASE_REQUEST, keyId: 'k-1' }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'E_ISSUE_FAILED', failedStep: 'store' });
    expect((error as Error).message).toMatch(/Rolled back: revoked internal key ik_[0-9a-f]{16}/);
    expect(await activeKeys(h.internal.list())).toEqual([]);
    expect(await registryFiles(h.root)).toEqual([]);
    expect((await h.events.list({ type: 'issue-rolled-back' }))[0]?.keyId).toBe('k-1');
  });

  it('a git failure deletes the stored secret and revokes the key', async () => {
    const h = await issuanceHarness(await backend.open());
    const gitDir = (await runGit(['rev-parse', '--absolute-git-dir'], { cwd: h.root })).trim();
    await writeFile(join(gitDir, 'index.lock'), '');
    const error = await h.issuer.issue({ ...BASE_REQUEST, keyId: 'k-1' }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'E_ISSUE_FAILED', failedStep: 'register' });
    expect((error as Error).message).toMatch(/deleted the secret at default:payments\/k-1; revoked internal key/);
    expect(await h.store.exists('payments/k-1')).toBe(false);
    expect(await activeKeys(h.internal.list())).toEqual([]);
    expect(await registryFiles(h.root)).toEqual([]);
  });

  it('a database failure after registration removes the entry (one more commit), the secret and the key', async () => {
    const h = await issuanceHarness(await backend.open());
    h.faults.eventAppend = true;
    const error = await h.issuer.issue({ ...BASE_REQUEST, keyId: 'k-1' }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'E_ISSUE_FAILED', failedStep: 'record-event' });
    expect((error as Error).message).toMatch(
      /removed registry entry k-1; deleted the secret at default:payments\/k-1; revoked internal key/,
    );
    expect(await registryFiles(h.root)).toEqual([]);
    expect((await runGit(['log', '--format=%s', '-2'], { cwd: h.root })).trim().split('\n')).toEqual([
      'keyledger: delete k-1',
      'keyledger: create k-1',
    ]);
    expect(await h.store.exists('payments/k-1')).toBe(false);
    expect(await activeKeys(h.internal.list())).toEqual([]);
  });

  it('a real database fault (the events table gone) rolls back too', async () => {
    const operational = await backend.open();
    const h = await issuanceHarness(operational);
    await operational.db.schema.dropTable('events').execute();
    const error = await h.issuer.issue({ ...BASE_REQUEST, keyId: 'k-1' }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'E_ISSUE_FAILED', failedStep: 'record-event' });
    expect(await registryFiles(h.root)).toEqual([]);
    expect(await activeKeys(h.internal.list())).toEqual([]);
  });

  it('when the rollback itself fails, the error says what is left to clean up by hand', async () => {
    const h = await issuanceHarness(await backend.open());
    h.faults.storePut = true;
    h.faults.providerRevoke = true;
    const error = await h.issuer.issue({ ...BASE_REQUEST, keyId: 'k-1' }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'E_ISSUE_ROLLBACK_INCOMPLETE' });
    expect((error as Error).message).toMatch(
      /NOT rolled back \(clean up by hand\): revoked internal key ik_[0-9a-f]+ \(injected fault: provider revoke refused\)/,
    );
  });

  it('an idempotency key returns the first result instead of minting again', async () => {
    const h = await issuanceHarness(await backend.open());
    const first = await h.issuer.issue({ ...BASE_REQUEST, idempotencyKey: 'req-42' });
    const again = await h.issuer.issue({ ...BASE_REQUEST, idempotencyKey: 'req-42' });
    expect(again).toEqual({ ...first, replayed: true });
    expect(await activeKeys(h.internal.list())).toHaveLength(1);
    await expect(
      h.issuer.issue({ ...BASE_REQUEST, purpose: 'something else', idempotencyKey: 'req-42' }),
    ).rejects.toMatchObject({
      code: 'E_IDEMPOTENCY_CONFLICT',
    });
  });

  it('a retry after a failed attempt starts afresh under the same idempotency key', async () => {
    const h = await issuanceHarness(await backend.open());
    h.faults.storePut = true;
    await expect(h.issuer.issue({ ...BASE_REQUEST, keyId: 'k-1', idempotencyKey: 'req-1' })).rejects.toMatchObject({
      code: 'E_ISSUE_FAILED',
    });
    h.faults.storePut = false;
    const issued = await h.issuer.issue({ ...BASE_REQUEST, keyId: 'k-1', idempotencyKey: 'req-1' });
    expect(issued.replayed).toBe(false);
    expect(await activeKeys(h.internal.list())).toHaveLength(1);
  });

  it('a retry after a crash half-way undoes the crashed run, then issues once', async () => {
    const h = await issuanceHarness(await backend.open());
    // The crashed run: it claimed the key, minted and stored, then the process died before registering.
    const idempotency = new (await import('./idempotency-records.js')).IdempotencyRecords(h.operational.db, h.clock);
    await idempotency.claim('req-crash', 'issue', 'x');
    const orphan = await h.internal.create({ name: 'k-1' });
    await h.store.put('payments/k-1', orphan.secret, { stage: 'current' });
    await idempotency.progress('req-crash', {
      keyId: 'k-1',
      provider: 'internal',
      providerKeyId: orphan.providerKeyId,
      stored: { name: 'default', path: 'payments/k-1' },
    });
    await h.operational.db
      .updateTable('idempotency_records')
      .set({
        request_hash: (await import('./idempotency-records.js')).IdempotencyRecords.hashRequest({
          ...BASE_REQUEST,
          actor: undefined,
          keyId: 'k-1',
          idempotencyKey: 'req-crash',
        }),
      })
      .execute();
    // Within five minutes another run may still be going: refuse.
    await expect(h.issuer.issue({ ...BASE_REQUEST, keyId: 'k-1', idempotencyKey: 'req-crash' })).rejects.toMatchObject({
      code: 'E_IDEMPOTENCY_CONFLICT',
    });
    h.clock.advance(10 * 60_000);
    const issued = await h.issuer.issue({ ...BASE_REQUEST, keyId: 'k-1', idempotencyKey: 'req-crash' });
    expect(issued.providerKeyId).not.toBe(orphan.providerKeyId);
    const active = await activeKeys(h.internal.list());
    expect(active.map((key) => key.providerKeyId)).toEqual([issued.providerKeyId]);
  });

  it('revokes: provider first, then the secret, then the registry and the event; running it again is harmless', async () => {
    const h = await issuanceHarness(await backend.open());
    const issued = await h.issuer.issue({ ...BASE_REQUEST, keyId: 'k-1' });
    const secret = (await h.store.get(issued.path))!.value;
    const revoked = await h.revoker.revoke({ keyId: 'k-1', actor: 'test:suite', reason: 'owner left' });
    expect(revoked.steps).toEqual([
      `revoked internal key ${issued.providerKeyId}`,
      'deleted the secret at default:payments/k-1',
      'marked k-1 revoked in the registry',
    ]);
    expect(await h.internal.verify(secret)).toMatchObject({ valid: false, reason: 'revoked' });
    expect(await h.store.exists(issued.path)).toBe(false);
    expect(analyzeEntryText('k', await readFile(join(h.root, issued.file), 'utf8')).entry?.status).toBe('revoked');
    const again = await h.revoker.revoke({ keyId: 'k-1', actor: 'test:suite' });
    expect(again.commit).toBeUndefined();
    expect((await h.events.list({ type: 'revoked' })).length).toBe(2);
    await expect(h.revoker.revoke({ keyId: 'nope', actor: 'x' })).rejects.toMatchObject({ code: 'E_KEY_NOT_FOUND' });
  });
});
