// Revocation as one unit, on both engines: every check before the first external effect (a dirty entry, an
// unreachable store, refused credentials change nothing), and a revoke that stops half-way stays pending in the
// journal, says what was and was not done, and is finished by running it again or by resumeAll().
import { appendFile, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { forEachBackend } from '../db/test-support/test-databases.js';
import { analyzeEntryText } from '../registry/entry-analysis.js';
import { RevocationIncompleteError } from './lifecycle-error.js';
import { BASE_REQUEST, issuanceHarness } from './test-support/issuance-harness.js';

forEachBackend((backend) => {
  async function issuedKey() {
    const h = await issuanceHarness(await backend.open());
    const issued = await h.issuer.issue({ ...BASE_REQUEST, keyId: 'k-1' });
    const secret = (await h.store.get(issued.path))!.value;
    const status = async () =>
      analyzeEntryText(issued.file, await readFile(join(h.root, issued.file), 'utf8')).entry?.status;
    return { h, issued, secret, status };
  }

  async function expectNothingDone(k: Awaited<ReturnType<typeof issuedKey>>) {
    expect(await k.h.internal.verify(k.secret)).toMatchObject({ valid: true });
    expect(await k.h.store.exists(k.issued.path)).toBe(true);
    expect(await k.h.events.list({ type: 'revoked' })).toEqual([]);
    expect(await k.h.journal.pending()).toEqual([]);
  }

  it('an entry with an uncommitted edit is refused before anything is revoked, and the error says so', async () => {
    const k = await issuedKey();
    await appendFile(join(k.h.root, k.issued.file), '# an edit nobody committed\n');
    const error = await k.h.revoker.revoke({ keyId: 'k-1', actor: 'test:suite' }).catch((caught: unknown) => caught);
    expect(error).toMatchObject({
      code: 'E_REGISTRY_DIRTY',
      details: {
        done: [],
        notDone: [
          `revoke internal key ${k.issued.providerKeyId}`,
          'delete the secret at default:payments/k-1',
          'mark k-1 revoked in the registry',
          'log the revoked event',
        ],
      },
    });
    expect((error as Error).message).toMatch(/uncommitted changes.*Nothing was done/);
    // Before: the key was revoked at the provider and its secret deleted, then the registry refused.
    await expectNothingDone(k);
    expect(await k.status()).toBe('active');
  });

  it('refused credentials or an unreachable store stop the revoke before its first effect', async () => {
    const k = await issuedKey();
    k.h.faults.providerRead = true;
    await expect(k.h.revoker.revoke({ keyId: 'k-1', actor: 'test:suite' })).rejects.toMatchObject({
      code: 'E_PROVIDER_AUTH',
      message: expect.stringMatching(/Nothing was done/),
    });
    k.h.faults.providerRead = false;
    k.h.faults.storeGet = true;
    await expect(k.h.revoker.revoke({ keyId: 'k-1', actor: 'test:suite' })).rejects.toMatchObject({
      code: 'E_REVOKE_PREFLIGHT',
      message: expect.stringMatching(/cannot reach secret store "default": injected fault: store unreachable/),
    });
    k.h.faults.storeGet = false;
    await expectNothingDone(k);
  });

  it('a failure after the provider step stays pending, names what was done, and the same command finishes it', async () => {
    const k = await issuedKey();
    k.h.faults.storeDelete = true;
    const error = await k.h.revoker
      .revoke({ keyId: 'k-1', actor: 'test:suite', reason: 'owner left' })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(RevocationIncompleteError);
    expect(error).toMatchObject({
      code: 'E_REVOKE_INCOMPLETE',
      details: {
        done: [`revoked internal key ${k.issued.providerKeyId}`],
        notDone: [
          'delete the secret at default:payments/k-1',
          'mark k-1 revoked in the registry',
          'log the revoked event',
        ],
      },
    });
    expect((error as Error).message).toMatch(/Recorded as pending .* run `keyledger revoke k-1` again/);
    expect(await k.h.internal.verify(k.secret)).toMatchObject({ valid: false, reason: 'revoked' });
    const [pending] = await k.h.journal.pending();
    expect(pending).toMatchObject({ keyId: 'k-1', state: 'pending', failure: 'injected fault: store delete refused' });

    k.h.faults.storeDelete = false;
    const finished = await k.h.revoker.revoke({ keyId: 'k-1', actor: 'someone-else' });
    expect(finished).toMatchObject({ resumed: true, revocationId: pending!.revocationId });
    expect(finished.steps).toEqual([
      `revoked internal key ${k.issued.providerKeyId}`,
      'deleted the secret at default:payments/k-1',
      'marked k-1 revoked in the registry',
    ]);
    expect(await k.h.store.exists(k.issued.path)).toBe(false);
    expect(await k.status()).toBe('revoked');
    const events = await k.h.events.list({ type: 'revoked' });
    expect(events).toHaveLength(1);
    // The revoke keeps the actor and reason it was started with.
    expect(events[0]).toMatchObject({ actor: 'test:suite', data: { reason: 'owner left', resumed: true } });
    expect(await k.h.journal.pending()).toEqual([]);
  });

  it('an event log failure at the last step rolls back with the journal, and the re-run logs the event once', async () => {
    const k = await issuedKey();
    k.h.faults.revokedEvent = true;
    await expect(k.h.revoker.revoke({ keyId: 'k-1', actor: 'test:suite' })).rejects.toMatchObject({
      code: 'E_REVOKE_INCOMPLETE',
      details: {
        done: [
          `revoked internal key ${k.issued.providerKeyId}`,
          'deleted the secret at default:payments/k-1',
          'marked k-1 revoked in the registry',
        ],
        notDone: ['log the revoked event'],
      },
    });
    expect(await k.status()).toBe('revoked');
    expect((await k.h.journal.pending()).map((record) => record.plan.map((step) => step.done))).toEqual([
      [true, true, true, false],
    ]);
    k.h.faults.revokedEvent = false;
    expect(await k.h.revoker.revoke({ keyId: 'k-1', actor: 'test:suite' })).toMatchObject({ resumed: true });
    expect(await k.h.events.list({ type: 'revoked' })).toHaveLength(1);
    expect(await k.h.journal.pending()).toEqual([]);
  });

  it('resumeAll finishes every pending revoke and reports the ones still failing', async () => {
    const k = await issuedKey();
    await k.h.issuer.issue({ ...BASE_REQUEST, keyId: 'k-2' });
    k.h.faults.storeDelete = true;
    await expect(k.h.revoker.revoke({ keyId: 'k-1', actor: 'test:suite' })).rejects.toThrow(/stopped at/);
    await expect(k.h.revoker.revoke({ keyId: 'k-2', actor: 'test:suite' })).rejects.toThrow(/stopped at/);
    const stillFailing = await k.h.revoker.resumeAll();
    expect(stillFailing.finished).toEqual([]);
    expect(stillFailing.failed.map((failure) => failure.keyId)).toEqual(['k-1', 'k-2']);
    k.h.faults.storeDelete = false;
    const resumed = await k.h.revoker.resumeAll();
    expect(resumed.failed).toEqual([]);
    expect(resumed.finished.map((revoked) => [revoked.keyId, revoked.resumed])).toEqual([
      ['k-1', true],
      ['k-2', true],
    ]);
    expect(await k.h.journal.pending()).toEqual([]);
    expect(await k.h.revoker.resumeAll()).toEqual({ finished: [], failed: [] });
  });
});
