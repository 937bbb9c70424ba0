// The faults of issue 13 on both engines, against real stores, the internal provider and the AWS IAM sandbox: a store
// that is not configured (the `npm start` symptom), a store that goes down mid-rotation, a provider whose revoke
// fails during the rollback, a process killed inside the rollback, and a key left live by a rotation that ended. After
// each: no provider key that neither the registry nor an open journal row accounts for, `rotate --status` (the
// rotator's `pending()`) shows what is pending, and `rotate --resume` (resumeAll + sweepOrphans) clears it.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, expect, it } from 'vitest';
import { forEachBackend, type TestBackend } from '../../db/test-support/test-databases.js';
import { ConfigError } from '../../errors/keyledger-error.js';
import type { Provider } from '../../providers/provider.js';
import { createProvider } from '../../providers/provider-table.js';
import { entryStorageRef } from '../../registry/key-entry-schema.js';
import { systemClock } from '../../runtime/clock.js';
import { SandboxControlClient } from '../../sandbox/sandbox-control-client.js';
import { type RunningSandbox, startSandbox } from '../../sandbox/start-sandbox.js';
import { RotationTicketDesk } from '../../tickets/rotation-ticket-desk.js';
import { createTicketSink } from '../../tickets/ticket-sink-table.js';
import type { KeyRotator } from './key-rotator.js';
import { stuckRotationDesk } from './rotation-services.js';
import { FaultySecretStore } from './test-support/faulty-secret-store.js';
import { bundleTestChild } from './test-support/rotation-crash-harness.js';
import { createRotationWorld, type RotationWorld } from './test-support/rotation-fixture.js';

let sandbox: RunningSandbox;
let aws: Provider;
let awsControl: SandboxControlClient;
let users = 0;
const worlds: RotationWorld[] = [];
const scratch: string[] = [];
// Bundled once for the file's two runs of the kill test (sqlite, postgres): bundling takes seconds, tens of seconds
// on a busy machine.
let rollbackChild: Promise<string> | undefined;

beforeAll(async () => {
  sandbox = await startSandbox({ org: 'none', providers: ['aws-iam'], rateLimits: 'off' });
  awsControl = new SandboxControlClient(sandbox.urls['aws-iam']!);
  aws = createProvider(
    'aws-iam',
    { ...sandbox.providerOptions('aws-iam'), retry: { baseDelayMs: 5, maxDelayMs: 50 }, rateLimit: 'off' },
    { clock: systemClock },
  );
});
afterAll(async () => {
  await sandbox?.stop();
  const childFile = await rollbackChild?.catch(() => undefined);
  if (childFile) rmSync(childFile, { force: true });
});
beforeEach(async () => {
  await awsControl.clearFaults();
});
afterEach(async () => {
  await Promise.all(worlds.splice(0).map((world) => world.stop()));
  for (const dir of scratch.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const SECRETS = { fingerprintKey: randomBytes(32), masterKey: randomBytes(32) };

async function world(backend: TestBackend, options: { keys?: number; consumers?: 'http' | 'none' } = {}) {
  const database = await backend.createDatabase({ migrated: true });
  const created = await createRotationWorld({
    operational: await database.open(),
    keys: options.keys ?? 0,
    consumers: options.consumers ?? 'http',
    fingerprintKey: { version: 'v1', key: SECRETS.fingerprintKey },
    masterKey: SECRETS.masterKey,
    extraProviders: { 'aws-iam': aws },
  });
  worlds.push(created);
  return { w: created, database };
}

/** An IAM user with one key, registered in `w` with its secret in store `storeName` (the entry names that store). */
async function awsKey(w: RotationWorld, storeName = 'default'): Promise<{ keyId: string; user: string }> {
  const user = `svc-fault-${process.pid}-${++users}`;
  await awsControl.call('POST', 'users', { userName: user });
  const keyId = `aws-${user}`;
  await w.issuer.issue({
    provider: 'aws-iam',
    team: 'growth',
    owner: 'bob@example.com',
    purpose: 'backups',
    permissions: [],
    account: user,
    keyId,
    store: { name: storeName, path: `aws/${keyId}` },
    consumers: [{ service: user, probe: { kind: 'grace', seconds: 0 } }],
    actor: 'test',
  });
  return { keyId, user };
}

async function liveAt(provider: Provider, account: string): Promise<string[]> {
  const live: string[] = [];
  for await (const key of provider.list({ account }))
    if (key.status !== 'revoked' && key.status !== 'expired') live.push(key.providerKeyId);
  return live;
}

/** Live provider keys of `keyId` that neither its registry entry nor an open journal row accounts for. */
async function unaccounted(w: RotationWorld, provider: Provider, keyId: string): Promise<string[]> {
  const entry = (await w.writer.read(keyId))!.entry;
  const open = await w.journal.openForKey(keyId);
  return (await liveAt(provider, entry.scope!.account_id!)).filter(
    (id) => id !== entry.provider_key_id && id !== open?.new_provider_key_id,
  );
}

/** What `keyledger rotate --resume` does: resume the journal, then both orphan sweeps over the world's entries. */
async function resume(rotator: KeyRotator, w?: RotationWorld) {
  const outcomes = await rotator.resumeAll({ waitForRetries: true, retryNow: true });
  const entries = w ? await Promise.all(w.keyIds.map(async (keyId) => (await w.writer.read(keyId))!.entry)) : undefined;
  const sweep = await rotator.sweepOrphans(entries ? { entries } : {});
  return { outcomes, sweep };
}

function ticketDesk(w: RotationWorld) {
  const dir = mkdtempSync(join(tmpdir(), 'keyledger-tickets-'));
  scratch.push(dir);
  const desk = new RotationTicketDesk({
    db: w.operational.db,
    sink: createTicketSink(`markdown:${dir}`, { env: {}, cwd: dir }),
    clock: systemClock,
    events: w.events,
  });
  const tickets = () => readdirSync(dir).map((file) => readFileSync(join(dir, file), 'utf8'));
  return { desk: stuckRotationDesk(desk, w.writer), tickets };
}

const VAULT_NOT_CONFIGURED = new ConfigError(
  'secret store "vault" is not configured: add it under `stores.vault` in keyledger.config.yaml',
  { code: 'E_SECRET_STORE_CONFIG' },
);

forEachBackend((backend) => {
  it('store unconfigured (the `npm start` symptom): refused before minting; one AWS key, nothing to resume', async () => {
    const { w } = await world(backend);
    const { keyId, user } = await awsKey(w, 'vault');
    expect((await w.writer.read(keyId))!.entry.storage).toEqual({ vault_path: `aws/${keyId}` });
    // As the app resolves stores: `vault` is not in keyledger.config.yaml.
    const rotator = w.rotator({
      stores: (name) => {
        if (name === 'vault') throw VAULT_NOT_CONFIGURED;
        return w.store;
      },
      options: { maxAttempts: 2 },
    });
    const error = await rotator.rotate(keyId, 'manual').then(
      (outcome) => outcome,
      (thrown: unknown) => thrown,
    );
    // Before: the key was minted, the rollback gave up on the store, the row ended `failed`: two live keys.
    expect(await liveAt(aws, user)).toEqual([(await w.writer.read(keyId))!.entry.provider_key_id]);
    expect(error).toMatchObject({ code: 'E_PREFLIGHT_FAILED' });
    expect((error as Error).message).toContain('nothing was changed');
    expect((error as Error).message).toContain('`stores.vault` in keyledger.config.yaml');
    expect(await w.journal.list({ keyId })).toEqual([]);
    expect(await rotator.pending()).toEqual([]);
    expect(await resume(rotator)).toEqual({ outcomes: [], sweep: { revoked: [], problems: [], unaccounted: [] } });
    expect(await unaccounted(w, aws, keyId)).toEqual([]);
  });

  it('store down mid-rotation with a consumer on the new key: the rollback waits (stuck, ticket, metric); --resume clears it', async () => {
    const { w } = await world(backend, { keys: 1 });
    const keyId = w.keyIds[0]!;
    const oldKey = (await w.writer.read(keyId))!.entry.provider_key_id!;
    const store = new FaultySecretStore(w.store);
    const { desk, tickets } = ticketDesk(w);
    const rotator = w.rotator({
      stores: () => store,
      stuckRotations: desk,
      options: { maxAttempts: 2, confirmTimeoutMs: 5_000 },
    });
    const { row } = await rotator.plan(keyId, 'manual');
    // The consumer confirmed the new (pending) version; then the store goes down before it can be verified.
    expect((await rotator.drive(row.rotation_id, { haltAt: 'consumers-confirmed' })).status).toBe('interrupted');
    store.down = true;
    const outcome = await rotator.drive(row.rotation_id, { waitForRetries: true });
    expect(outcome.status).toBe('stuck');
    const newKey = (await w.journal.get(row.rotation_id))!.new_provider_key_id!;
    // The consumer uses the new key, so it is not revoked; the row stays open and holds it.
    const [pending] = await rotator.pending();
    expect(pending).toMatchObject({ stuck: true, liveKeys: [newKey], row: { state: 'rolling-back' } });
    expect(pending!.row.failure).toContain('consumer_on_new_key');
    expect((await liveAt(w.provider, 'svc-0')).sort()).toEqual([oldKey, newKey].sort());
    expect(await unaccounted(w, w.provider, keyId)).toEqual([]);
    expect(tickets()).toHaveLength(1);
    expect(tickets()[0]).toContain(`Live keys it minted: ${newKey}`);
    expect(tickets()[0]).toContain('state: open');
    expect(await w.metrics.value('api_key_rotation_rollback_stuck_total', { provider: 'internal' })).toBe(1);
    expect(await w.metrics.value('api_key_rotation_rollback_pending', { provider: 'internal' })).toBe(1);
    await w.consumer.callAll();
    expect(w.consumer.stats().failureLog).toEqual([]);

    store.down = false;
    const { outcomes } = await resume(rotator);
    expect(outcomes.map((o) => o.status)).toEqual(['rolled-back']);
    expect(await rotator.pending()).toEqual([]);
    expect(await liveAt(w.provider, 'svc-0')).toEqual([oldKey]);
    expect(await w.store.get(`team/${keyId}`, 'pending')).toBeNull();
    expect(await unaccounted(w, w.provider, keyId)).toEqual([]);
    expect(tickets()[0]).toContain('state: closed');
    expect(await w.metrics.value('api_key_rotation_rollback_pending', { provider: 'internal' })).toBe(0);
    await w.consumer.callAll();
    expect(w.consumer.stats().failureLog).toEqual([]);
  });

  it('store down mid-rotation, no consumer on the new key: the new key is revoked at once, the store clean-up waits', async () => {
    const { w } = await world(backend, { keys: 1, consumers: 'none' });
    const keyId = w.keyIds[0]!;
    const oldKey = (await w.writer.read(keyId))!.entry.provider_key_id!;
    const store = new FaultySecretStore(w.store);
    const rotator = w.rotator({ stores: () => store, options: { maxAttempts: 2 } });
    const { row } = await rotator.plan(keyId, 'manual');
    expect((await rotator.drive(row.rotation_id, { haltAt: 'stored' })).status).toBe('interrupted');
    store.down = true;
    expect((await rotator.drive(row.rotation_id, { waitForRetries: true })).status).toBe('stuck');
    // The provider step did not wait for the store: only the old key is live, though the store is still down.
    expect(await liveAt(w.provider, 'svc-0')).toEqual([oldKey]);
    const [pending] = await rotator.pending();
    expect(pending).toMatchObject({ stuck: true, liveKeys: [], row: { state: 'rolling-back' } });
    expect(pending!.row.failure).toContain('rollback_incomplete');
    expect((await w.events.list({ keyId, type: 'rotation.new_key_revoked' })).length).toBe(1);
    expect(await unaccounted(w, w.provider, keyId)).toEqual([]);

    store.down = false;
    const { outcomes } = await resume(rotator);
    expect(outcomes.map((o) => o.status)).toEqual(['rolled-back']);
    expect(await w.store.get(`team/${keyId}`, 'pending')).toBeNull();
    expect(await rotator.pending()).toEqual([]);
    expect(await unaccounted(w, w.provider, keyId)).toEqual([]);
  });

  it('provider revoke failing during the rollback: stuck holding the key, listed; --resume after the fault revokes it', async () => {
    const { w } = await world(backend);
    const { keyId, user } = await awsKey(w);
    const store = new FaultySecretStore(w.store);
    store.failPendingPuts = true;
    const rotator = w.rotator({ stores: () => store, options: { maxAttempts: 2 } });
    await awsControl.addFault({ operation: 'iam:DeleteAccessKey', kind: 'status', status: 500, times: -1 });
    const outcome = await rotator.rotate(keyId, 'manual');
    expect(outcome.status).toBe('stuck');
    const newKey = (await w.journal.openForKey(keyId))!.new_provider_key_id!;
    expect(newKey).toMatch(/^AKIA/);
    expect(await liveAt(aws, user)).toContain(newKey);
    const [pending] = await rotator.pending();
    expect(pending).toMatchObject({ stuck: true, liveKeys: [newKey] });
    expect(pending!.row.failure).toContain('aws-iam');
    expect(await unaccounted(w, aws, keyId)).toEqual([]);
    // The controller's pass honours the back-off: it meets the row, does not retry it yet, and reports it stuck.
    const controllerPass = await rotator.resumeAll();
    expect(controllerPass.map((o) => o.status)).toEqual(['stuck']);
    expect((await w.journal.openForKey(keyId))!.attempts).toBe(pending!.row.attempts);

    await awsControl.clearFaults();
    store.failPendingPuts = false;
    const { outcomes } = await resume(rotator);
    expect(outcomes.map((o) => o.status)).toEqual(['rolled-back']);
    expect(await liveAt(aws, user)).toEqual([(await w.writer.read(keyId))!.entry.provider_key_id]);
    expect(await rotator.pending()).toEqual([]);
    expect(await unaccounted(w, aws, keyId)).toEqual([]);
  });

  it('process killed during the rollback (inside the revoke): listed as pending, --resume finishes it', async () => {
    const { w, database } = await world(backend);
    const { keyId, user } = await awsKey(w);
    // The rollback's first revoke call is held by the sandbox for 20 s: the kill lands inside it.
    await awsControl.addFault({ operation: 'iam:UpdateAccessKey', kind: 'slow', delayMs: 20_000, times: 1 });
    rollbackChild ??= bundleTestChild('rotation-rollback-child.ts');
    const childFile = await rollbackChild;
    const child = spawn(process.execPath, [childFile], {
      env: {
        ...process.env,
        KEYLEDGER_ROLLBACK_CHILD: JSON.stringify({
          database: database.options,
          root: w.root,
          keyId,
          fingerprintKey: SECRETS.fingerprintKey.toString('hex'),
          masterKey: SECRETS.masterKey.toString('hex'),
          aws: sandbox.providerOptions('aws-iam'),
        }),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise((resolve) => child.once('exit', resolve));
    const deadline = Date.now() + 60_000;
    for (;;) {
      const row = await w.journal.openForKey(keyId);
      if (row?.state === 'rolling-back') break;
      if (child.exitCode !== null || Date.now() > deadline)
        throw new Error(`the child never reached rolling-back (exit ${child.exitCode}): ${stderr}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    await new Promise((resolve) => setTimeout(resolve, 500)); // well inside the held revoke
    child.kill('SIGKILL');
    await exited;

    const open = (await w.journal.openForKey(keyId))!;
    expect(open.state).toBe('rolling-back');
    const newKey = open.new_provider_key_id!;
    expect(await liveAt(aws, user)).toContain(newKey);
    const rotator = w.rotator({ options: { maxAttempts: 2 } });
    expect(await rotator.pending()).toMatchObject([{ liveKeys: [newKey], row: { rotation_id: open.rotation_id } }]);
    expect(await unaccounted(w, aws, keyId)).toEqual([]);

    const { outcomes } = await resume(rotator);
    expect(outcomes.map((o) => o.status)).toEqual(['rolled-back']);
    expect(await liveAt(aws, user)).toEqual([(await w.writer.read(keyId))!.entry.provider_key_id]);
    expect(await rotator.pending()).toEqual([]);
    expect(await unaccounted(w, aws, keyId)).toEqual([]);
  }, 120_000);

  it('--resume revokes a key that a rotation which ended `failed` left live, and spares one still in use', async () => {
    const { w } = await world(backend, { keys: 2, consumers: 'none' });
    const [lost, inUse] = w.keyIds as [string, string];
    const rotator = w.rotator();
    // As an older keyledger left them: one rotation failed with its minted key never stored...
    const first = (await rotator.plan(lost, 'manual')).row;
    expect((await rotator.drive(first.rotation_id, { haltAt: 'minted' })).status).toBe('interrupted');
    // ...one failed after its promote (its new key is current in the store, the registry not yet updated).
    const second = (await rotator.plan(inUse, 'manual')).row;
    expect((await rotator.drive(second.rotation_id, { haltAt: 'old-revoked' })).status).toBe('interrupted');
    await w.operational.db
      .updateTable('rotation_journal')
      .set({ state: 'failed', lease_owner: null, lease_expires_at: null, failure: 'gave up after 8 attempts' })
      .where('rotation_id', 'in', [first.rotation_id, second.rotation_id])
      .execute();
    const leftLive = (await w.journal.get(first.rotation_id))!.new_provider_key_id!;
    const current = (await w.journal.get(second.rotation_id))!.new_provider_key_id!;
    expect(await unaccounted(w, w.provider, lost)).toEqual([leftLive]);
    expect(await rotator.pending()).toEqual([]);

    const { outcomes, sweep } = await resume(w.rotator());
    expect(outcomes).toEqual([]);
    expect(sweep).toEqual({
      revoked: [{ keyId: lost, provider: 'internal', providerKeyId: leftLive, rotationId: first.rotation_id }],
      problems: [],
      unaccounted: [],
    });
    expect(await unaccounted(w, w.provider, lost)).toEqual([]);
    expect(await liveAt(w.provider, 'svc-1')).toContain(current);
    const events = await w.events.list({ keyId: lost, type: 'rotation.orphan_revoked' });
    expect(events.map((event) => event.data)).toEqual([expect.objectContaining({ provider_key_ids: [leftLive] })]);
  });
  it('--resume lists every account the registry names: revokes a rotation-named key no journal row accounts for, lists the ones it must not touch', async () => {
    const { w } = await world(backend, { keys: 3, consumers: 'none' });
    const [restored, inStore, current] = w.keyIds as [string, string, string];
    const entryOf = async (keyId: string) => (await w.writer.read(keyId))!.entry;
    const account = (await entryOf(restored)).scope!.account_id!;
    // As a journal restored from an older backup leaves them: keys with a rotation's name and no row behind them.
    const orphan = await w.provider.create({ name: `${restored}.rot-0badc0de`, account });
    const held = await w.provider.create({ name: `${inStore}.rot-0badbeef`, account });
    const stray = await w.provider.create({ name: `gone-from-the-registry.rot-00c0ffee`, account });
    // The second one's secret sits in its entry's store (a version beside the current one): it may be in use.
    const storage = entryStorageRef(await entryOf(inStore))!;
    await w.store.put(storage.path, held.secret, {
      stage: 'pending',
      metadata: { provider_key_id: held.providerKeyId },
    });
    // A key that a finished rotation minted (so it carries a rotation's name) and the registry names as current is
    // the key in use: no orphan, though the journal row naming it is long `done`.
    const rotation = (await w.rotator().plan(current, 'manual')).row;
    expect((await w.rotator().drive(rotation.rotation_id)).status).toBe('done');
    const currentEntry = await entryOf(current);
    const currentId = currentEntry.provider_key_id!;
    expect(await liveAt(w.provider, account)).toEqual(
      expect.arrayContaining([orphan.providerKeyId, held.providerKeyId, stray.providerKeyId]),
    );
    expect(await liveAt(w.provider, currentEntry.scope!.account_id!)).toContain(currentId);

    const { sweep } = await resume(w.rotator(), w);
    expect(sweep.revoked).toEqual([{ keyId: restored, provider: 'internal', providerKeyId: orphan.providerKeyId }]);
    expect(sweep.problems).toEqual([]);
    expect(
      sweep.unaccounted
        .map(({ keyId, providerKeyId }) => ({ keyId, providerKeyId }))
        .sort((a, b) => a.keyId.localeCompare(b.keyId)),
    ).toEqual(
      [
        { keyId: 'gone-from-the-registry', providerKeyId: stray.providerKeyId },
        { keyId: inStore, providerKeyId: held.providerKeyId },
      ].sort((a, b) => a.keyId.localeCompare(b.keyId)),
    );
    const live = await liveAt(w.provider, account);
    expect(live).not.toContain(orphan.providerKeyId);
    expect(live).toEqual(expect.arrayContaining([held.providerKeyId, stray.providerKeyId]));
    expect(await liveAt(w.provider, currentEntry.scope!.account_id!)).toContain(currentId);
    const events = await w.events.list({ keyId: restored, type: 'rotation.orphan_revoked' });
    expect(events.map((event) => event.data)).toEqual([
      expect.objectContaining({ provider_key_ids: [orphan.providerKeyId], why: 'no journal row accounts for it' }),
    ]);
    // A second sweep finds nothing new to revoke: the account is clean but for what a person must decide.
    const again = await resume(w.rotator(), w);
    expect(again.sweep.revoked).toEqual([]);
    expect(again.sweep.unaccounted).toHaveLength(2);
  });
});
