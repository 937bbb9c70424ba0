// GitHub deploy-key rotation against the GitHub sandbox (real HTTP, GitHub's REST paths and answers): the adapter
// mints an Ed25519 pair, GitHub receives the public half, the secret store the private half; the old key leaves the
// repository only once the new one is verified. A verification that never succeeds rolls back and leaves the old
// key on the repository and working. The private key never reaches the registry, its history or the event log.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createTestBackend } from '../../db/test-support/test-databases.js';
import type { Provider } from '../../providers/provider.js';
import { createProvider } from '../../providers/provider-table.js';
import { systemClock } from '../../runtime/clock.js';
import { SandboxControlClient } from '../../sandbox/sandbox-control-client.js';
import { type RunningSandbox, startSandbox } from '../../sandbox/start-sandbox.js';
import { MarkdownTicketSink } from '../../tickets/markdown/markdown-ticket-sink.js';
import { RotationTicketDesk } from '../../tickets/rotation-ticket-desk.js';
import type { RotationRow } from './rotation-journal.js';
import { RotationScheduler } from './rotation-scheduler.js';
import { FaultySecretStore } from './test-support/faulty-secret-store.js';
import { createRotationWorld, type RotationWorld } from './test-support/rotation-fixture.js';

const backend = createTestBackend('sqlite');
const REPOSITORY = 'acme/api';
let sandbox: RunningSandbox;
let github: Provider;
let control: SandboxControlClient;
let world: RotationWorld;
let keys = 0;

beforeAll(async () => {
  sandbox = await startSandbox({ org: 'none', providers: ['github'], rateLimits: 'off' });
  control = new SandboxControlClient(sandbox.urls.github!);
  github = createProvider(
    'github',
    { ...sandbox.providerOptions('github'), retry: { baseDelayMs: 5, maxDelayMs: 50 }, rateLimit: 'off' },
    { clock: systemClock },
  );
  world = await createRotationWorld({ operational: await backend.open(), extraProviders: { github } });
});

afterAll(async () => {
  await world?.stop();
  await (github as Provider & { close?: () => Promise<void> })?.close?.();
  await sandbox?.stop();
  await backend.cleanup();
});

beforeEach(async () => {
  await control.clearFaults();
});

/** A deploy key issued through keyledger onto the repository, consumed by the sandbox consumer. */
async function deployKey(): Promise<{ keyId: string; path: string }> {
  const keyId = `deploy-api-${++keys}`;
  const path = `github/${keyId}`;
  await world.issuer.issue({
    provider: 'github',
    team: 'platform',
    owner: 'bob@example.com',
    purpose: 'CI pulls acme/api over SSH',
    permissions: [],
    account: REPOSITORY,
    keyId,
    store: { name: 'default', path },
    consumers: [{ service: 'ci', probe: { kind: 'grace', seconds: 0 } }],
    actor: 'test',
  });
  await world.consumer.add({ keyId, store: world.store, path, provider: github, account: REPOSITORY });
  return { keyId, path };
}

/** The newest journal row of `keyId` once `ready` holds for it (polled every 5 ms, for at most 60 s). */
async function untilJournal(keyId: string, ready: (row: RotationRow) => boolean): Promise<RotationRow> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const [row] = await world.journal.list({ keyId, limit: 1 });
    if (row && ready(row)) return row;
    if (Date.now() > deadline)
      throw new Error(`journal of ${keyId} never reached the awaited state (now ${row?.state})`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

async function repositoryKeys(): Promise<string[]> {
  const ids: string[] = [];
  for await (const key of github.list({ account: REPOSITORY })) ids.push(key.providerKeyId);
  return ids.sort();
}

describe('GitHub deploy keys', () => {
  it('rotates end to end: the new public half is on the repository, the old one removed, the consumer never failed', async () => {
    const { keyId, path } = await deployKey();
    const before = (await world.writer.read(keyId))!.entry.provider_key_id!;
    const oldSecret = (await world.store.get(path, 'current'))!.value;
    expect(await repositoryKeys()).toContain(before);

    const outcome = await world.rotator().rotate(keyId, 'schedule');
    expect(outcome.status).toBe('done');

    const after = (await world.writer.read(keyId))!.entry.provider_key_id!;
    expect(after).not.toBe(before);
    const onRepository = await repositoryKeys();
    expect(onRepository).toContain(after);
    expect(onRepository).not.toContain(before);
    const current = (await world.store.get(path, 'current'))!;
    expect(current.value.reveal()).toMatch(/^-----BEGIN OPENSSH PRIVATE KEY-----/);
    expect(await github.verify(current.value, { providerKeyId: after, account: REPOSITORY })).toMatchObject({
      valid: true,
      providerKeyId: after,
    });
    // The old private key is no deploy key any more: GitHub would refuse it over SSH.
    expect((await github.verify(oldSecret, { providerKeyId: before, account: REPOSITORY })).valid).toBe(false);
    await world.consumer.callAll();
    expect(world.consumer.stats().failures).toBe(0);

    // Private halves (old and new) appear nowhere in the registry, its history or the event log.
    const entryText = readFileSync(join(world.root, (await world.writer.read(keyId))!.file), 'utf8');
    const history = execFileSync('git', ['log', '-p', '--all'], { cwd: world.root, maxBuffer: 64 << 20 }).toString();
    const events = JSON.stringify(await world.events.list({ keyId }));
    for (const secret of [oldSecret.reveal(), current.value.reveal()]) {
      const body = secret.split('\n')[1]!;
      for (const text of [entryText, history, events]) expect(text).not.toContain(body);
    }
  });

  it('a verification that never succeeds rolls back: the new key is deleted, the old one stays on the repository and works', async () => {
    const { keyId, path } = await deployKey();
    const before = (await world.writer.read(keyId))!.entry.provider_key_id!;
    const keysBefore = await repositoryKeys();
    // Verifying a deploy key reads the repository's key list, and GitHub answers 503 to every read from the moment
    // the new key is stored (the preflight's read before it passed) until the rotation has given up and is rolling
    // back; the outage then ends, so the rollback can list for orphans.
    const store = new FaultySecretStore(world.store);
    store.beforePendingPut = async () => {
      await control.addFault({
        operation: 'github:GET /repos/{owner}/{repo}/keys',
        kind: 'status',
        status: 503,
        times: -1,
      });
    };
    const rotation = world
      .rotator({ stores: () => store, options: { maxAttempts: 2, retryBaseMs: 300 } })
      .rotate(keyId, 'schedule');
    const { rotation_id: rotationId } = await untilJournal(keyId, () => true);
    await untilJournal(
      keyId,
      (row) => row.rotation_id === rotationId && ['rolling-back', 'rolled-back', 'failed'].includes(row.state),
    );
    await control.clearFaults();
    const outcome = await rotation;

    expect(outcome).toMatchObject({ status: 'rolled-back', row: { rollback_reason: 'provider_unavailable' } });
    expect(await repositoryKeys()).toEqual(keysBefore);
    expect((await world.writer.read(keyId))!.entry.provider_key_id).toBe(before);
    const current = (await world.store.get(path, 'current'))!;
    expect(current.metadata.provider_key_id).toBe(before);
    expect((await github.verify(current.value, { providerKeyId: before, account: REPOSITORY })).valid).toBe(true);
  });

  it('a fine-grained PAT of the organisation is due: a ticket, not a rotation (GitHub cannot create PATs by API)', async () => {
    const deploy = await deployKey();
    await world.writer.create({
      key_id: 'ci-release-pat',
      description: 'Release workflow token',
      owner_team: 'platform',
      owner_individual: 'bob@example.com',
      purpose: 'publishes releases',
      created_at: '2026-01-05T00:00:00Z',
      expiration: '2026-12-31T00:00:00Z',
      scope: { provider: 'github', account_id: 'acme', permissions: ['contents:write'] },
      storage: { store: 'default', path: 'github/ci-release-pat' },
      audit: { rotation_owner: 'bob@example.com', rotation_frequency_days: 90 },
    });
    const directory = await mkdtemp(join(tmpdir(), 'keyledger-tickets-'));
    const tickets = new RotationTicketDesk({
      db: world.operational.db,
      sink: new MarkdownTicketSink({ directory }),
      clock: systemClock,
    });
    const scheduler = new RotationScheduler({
      rotator: world.rotator(),
      providers: world.providers,
      tickets,
      clock: systemClock,
    });
    const due = await world.dueNow(['ci-release-pat', deploy.keyId]);
    const report = await scheduler.run(due);
    // The deploy key of the same provider rotates; the PAT gets a rotation ticket and no journal entry.
    expect(report).toMatchObject({ done: 1, failed: 0, tickets: { opened: 1, existing: 0, failed: 0 } });
    expect(await world.journal.list({ keyId: 'ci-release-pat' })).toEqual([]);
    const [file] = await readdir(directory);
    const ticket = await readFile(join(directory, file!), 'utf8');
    expect(ticket).toContain('ci-release-pat');
    expect(ticket).toContain('github/ci-release-pat');
    // Rotating it by hand says why it cannot be done here.
    await expect(world.rotator().rotate('ci-release-pat', 'manual')).rejects.toMatchObject({
      code: 'E_ROTATION_MANUAL',
      message: expect.stringContaining('fine-grained-pat'),
    });
  });
});
