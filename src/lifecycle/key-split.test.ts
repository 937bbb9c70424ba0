// `keyledger split` end to end on a real world (git registry, operational store on both engines, embedded store,
// internal provider, three sandbox consumers — one service per team — calling with the key all along): three keys,
// each team's service on its own key, no failed call, the shared key revoked; a split interrupted part-way resumes
// without minting twice; a dry run changes nothing; a key one team uses is refused. Then the same split of a key
// at the Datadog sandbox, through its adapter over real HTTP.
import { spawnSync } from 'node:child_process';
import { hostname } from 'node:os';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createTestBackend, forEachBackend } from '../db/test-support/test-databases.js';
import type { Provider } from '../providers/provider.js';
import { createProvider } from '../providers/provider-table.js';
import type { Consumer } from '../registry/key-entry-schema.js';
import { type Clock, fixedClock, systemClock } from '../runtime/clock.js';
import { ConsumerSandbox } from '../sandbox/consumer/consumer-sandbox.js';
import { type RunningSandbox, startSandbox } from '../sandbox/start-sandbox.js';
import { KeyLocks } from './key-locks.js';
import { KeyRevoker } from './key-revocation.js';
import {
  type ConsumerMover,
  KeySplitter,
  type KeySplitterDependencies,
  moveByProbeUrl,
  SplitFailedError,
} from './key-split.js';
import { RevocationJournal } from './revocation-journal.js';
import { createConsumerConfirmers } from './rotation/consumers/consumer-confirmer-table.js';
import { Gate } from './rotation/test-support/fencing-replicas.js';
import { createRotationWorld, type RotationWorld } from './rotation/test-support/rotation-fixture.js';

const SHARED = 'orders-api-shared';
const SHARED_PATH = `platform/${SHARED}`;
const TEAMS = ['payments', 'growth', 'search'] as const;

interface SplitWorld {
  world: RotationWorld;
  services: Record<string, ConsumerSandbox>;
  revoker: KeyRevoker;
  splitter(mover?: ConsumerMover, overrides?: Partial<KeySplitterDependencies>): KeySplitter;
  stop(): Promise<void>;
}

/** The provider the shared key is at: the internal one, or a provider sandbox over real HTTP. */
interface SplitProvider {
  name: string;
  provider?: Provider;
  account?: string;
  permissions: string[];
}

const INTERNAL: SplitProvider = { name: 'internal', account: 'orders', permissions: ['orders:read'] };

async function splitWorld(
  open: () => Promise<import('../db/operational-store.js').OperationalStore>,
  at: SplitProvider = INTERNAL,
  clock: Clock = systemClock,
): Promise<SplitWorld> {
  const world = await createRotationWorld({
    operational: await open(),
    clock,
    ...(at.provider ? { extraProviders: { [at.name]: at.provider } } : {}),
  });
  const provider = world.providers(at.name);
  const services: Record<string, ConsumerSandbox> = {};
  const consumers: Consumer[] = [];
  for (const team of TEAMS) {
    const service = new ConsumerSandbox({ keys: [], refreshMs: 20, callMs: 20 });
    await service.start();
    services[team] = service;
    consumers.push({
      service: `${team}-orders-client`,
      team,
      probe: { ...service.probeFor(SHARED), move_url: service.moveUrlFor(SHARED) },
    });
  }
  await world.issuer.issue({
    provider: at.name,
    team: 'platform',
    owner: 'pat@example.com',
    purpose: 'calls the orders API',
    permissions: at.permissions,
    ...(at.account ? { account: at.account } : {}),
    keyId: SHARED,
    store: { name: 'default', path: SHARED_PATH },
    consumers,
    actor: 'test',
  });
  for (const team of TEAMS)
    await services[team]!.add({
      keyId: SHARED,
      store: world.store,
      path: SHARED_PATH,
      provider,
      ...(at.account ? { account: at.account } : {}),
      requiredPermissions: at.permissions,
    });
  const revoker = new KeyRevoker({
    providers: world.providers,
    stores: () => world.store,
    writer: world.writer,
    events: world.events,
    journal: new RevocationJournal(world.operational.db, clock),
    leaseOwner: 'revoker-elsewhere',
  });
  return {
    world,
    services,
    revoker,
    splitter: (mover, overrides = {}) =>
      new KeySplitter({
        db: world.operational.db,
        writer: world.writer,
        issuer: world.issuer,
        revoker,
        providers: world.providers,
        stores: () => world.store,
        confirmers: createConsumerConfirmers({ clock: () => new Date(), env: process.env }),
        clock,
        confirmTimeoutMs: 10_000,
        confirmPollMs: 20,
        owners: { payments: 'ann@example.com', growth: 'gus@example.com' },
        ...(mover ? { mover } : {}),
        ...overrides,
      }),
    stop: async () => {
      for (const service of Object.values(services)) await service.stop();
      await world.stop();
    },
  };
}

async function reportedVersion(service: ConsumerSandbox): Promise<string> {
  const answer = await fetch(service.probeFor(SHARED).url);
  return ((await answer.json()) as { version_id: string }).version_id;
}

forEachBackend((backend) => {
  describe(`KeySplitter (${backend.dialect})`, () => {
    let env: SplitWorld | undefined;
    afterEach(async () => {
      await env?.stop();
      env = undefined;
    });

    it('splits a key shared by three teams: three keys, each team on its own, no failed call, the shared key revoked', async () => {
      env = await splitWorld(() => backend.open());
      const { world, services } = env;
      const sharedSecret = (await world.store.get(SHARED_PATH, 'current'))!;
      const result = await env.splitter().split(SHARED, { actor: 'test' });
      expect(result).toMatchObject({ revoked: true, resumed: false, dryRun: false });
      expect(result.teams.map((t) => `${t.team}:${t.newKeyId}:${t.state}`)).toEqual([
        `growth:${SHARED}-growth:done`,
        `payments:${SHARED}-payments:done`,
        `search:${SHARED}-search:done`,
      ]);
      for (const team of TEAMS) {
        const own = (await world.writer.read(`${SHARED}-${team}`))!.entry;
        expect(own.owner_team).toBe(team);
        expect(own.consumed_by?.map((c) => (typeof c === 'string' ? c : c.service))).toEqual([`${team}-orders-client`]);
        const stored = (await world.store.get(`${team}/${SHARED}-${team}`, 'current'))!;
        expect(await reportedVersion(services[team]!)).toBe(stored.versionId);
      }
      expect((await world.writer.read(`${SHARED}-payments`))!.entry.owner_individual).toBe('ann@example.com');
      expect((await world.writer.read(`${SHARED}-search`))!.entry.owner_individual).toBe('pat@example.com');
      expect((await world.writer.read(SHARED))!.entry.status).toBe('revoked');
      // The shared key no longer works at the provider; each team's does.
      expect((await world.provider.verify(sharedSecret.value)).valid).toBe(false);
      for (const service of Object.values(services)) await service.callAll();
      const stats = Object.values(services).map((service) => service.stats());
      expect(stats.map((s) => s.failureLog.slice(0, 2))).toEqual([[], [], []]);
      expect(stats.every((s) => s.calls > 0)).toBe(true);
      const live = [];
      for await (const key of world.provider.list({ account: 'orders' })) if (key.status === 'active') live.push(key);
      expect(live).toHaveLength(3);
    });

    it('resumes an interrupted split without minting twice', async () => {
      env = await splitWorld(() => backend.open());
      const { world, services } = env;
      let refusals = 1;
      const flaky: ConsumerMover = async (consumer, target) => {
        if (target.keyId.endsWith('-growth') && refusals-- > 0) throw new Error('deploy pipeline busy');
        await moveByProbeUrl(consumer, target);
      };
      const failure = await env
        .splitter(flaky)
        .split(SHARED, { actor: 'test' })
        .catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(SplitFailedError);
      expect((failure as Error).message).toMatch(/stopped at "move consumers" for team growth: deploy pipeline busy/);
      expect((failure as Error).message).toMatch(/NOT done: .*revoke orders-api-shared/);
      // Nothing revoked; every service still works with what it holds.
      expect((await world.writer.read(SHARED))!.entry.status).toBe('active');
      const rows = await world.operational.db
        .selectFrom('key_splits')
        .select(['team', 'state'])
        .orderBy('team')
        .execute();
      expect(rows).toEqual([
        { team: 'growth', state: 'issued' },
        { team: 'payments', state: 'planned' },
        { team: 'search', state: 'planned' },
      ]);
      const result = await env.splitter(flaky).split(SHARED, { actor: 'test' });
      expect(result).toMatchObject({ revoked: true, resumed: true });
      const live = [];
      for await (const key of world.provider.list({ account: 'orders' })) if (key.status === 'active') live.push(key);
      expect(live).toHaveLength(3);
      for (const service of Object.values(services)) await service.callAll();
      expect(Object.values(services).map((s) => s.stats().failures)).toEqual([0, 0, 0]);
    });

    it('plans without changing anything on a dry run, and refuses a key only one team uses', async () => {
      env = await splitWorld(() => backend.open());
      const { world } = env;
      const dry = await env.splitter().split(SHARED, { actor: 'test', dryRun: true });
      expect(dry.dryRun).toBe(true);
      expect(dry.teams.map((t) => `${t.team} ${t.path} ${t.consumers.join(',')} ${t.state}`)).toEqual([
        `growth growth/${SHARED}-growth growth-orders-client planned`,
        `payments payments/${SHARED}-payments payments-orders-client planned`,
        `search search/${SHARED}-search search-orders-client planned`,
      ]);
      expect(await world.writer.read(`${SHARED}-growth`)).toBeUndefined();
      expect(await world.operational.db.selectFrom('key_splits').selectAll().execute()).toEqual([]);
      await world.issuer.issue({
        provider: 'internal',
        team: 'solo',
        owner: 'sol@example.com',
        purpose: 'one team',
        permissions: ['orders:read'],
        account: 'solo',
        keyId: 'solo-key',
        consumers: [{ service: 'solo-app', team: 'solo' }],
        actor: 'test',
      });
      await expect(env.splitter().split('solo-key', { actor: 'test' })).rejects.toThrow(/one team only \(solo\)/);
      await expect(env.splitter().split('no-such-key', { actor: 'test' })).rejects.toThrow(/no registry entry/);
    });
  });
});

/** A holder of the key's lock on another replica (another host: the same-host dead-process check never helps). */
const OTHER = { holder: 'replica-elsewhere', operation: 'rotation' as const, operationId: 'rot-1', leaseMs: 60_000 };

/** A mover that stops the first call at the gate (a paused or dead replica), then moves nothing. */
function stuckMover(gate: Gate): ConsumerMover {
  return async () => {
    await gate.pass();
  };
}

async function liveAt(world: RotationWorld): Promise<{ active: number; all: number }> {
  let active = 0;
  let all = 0;
  for await (const key of world.provider.list({ account: 'orders' })) {
    all++;
    if (key.status === 'active') active++;
  }
  return { active, all };
}

forEachBackend((backend) => {
  describe(`KeySplitter holds the shared key's lock (${backend.dialect})`, () => {
    let env: SplitWorld | undefined;
    afterEach(async () => {
      await env?.stop();
      env = undefined;
    });

    it('for the whole run: no revoke or rotation takes the key meanwhile, the final revoke uses the same lock', async () => {
      env = await splitWorld(() => backend.open());
      const { world, revoker } = env;
      const locks = new KeyLocks(world.operational.db, systemClock);
      const seen: string[] = [];
      const watching: ConsumerMover = async (consumer, target) => {
        const held = await locks.get(SHARED);
        seen.push(`${held?.operation} ${held?.operation_id}`);
        await expect(revoker.revoke({ keyId: SHARED, actor: 'test' })).rejects.toMatchObject({ code: 'E_KEY_BUSY' });
        expect(await locks.acquire(SHARED, OTHER)).toBeUndefined();
        await moveByProbeUrl(consumer, target);
      };
      const result = await env.splitter(watching).split(SHARED, { actor: 'test' });
      expect(result.revoked).toBe(true);
      expect(seen).toEqual(TEAMS.map(() => `split split:${SHARED}`));
      // Taken once (token 1) and handed to the revoke, then given back.
      expect(await locks.get(SHARED)).toMatchObject({ holder: null, token: 1 });
      expect((await world.writer.read(SHARED))!.entry.status).toBe('revoked');
    });

    it('refuses to start while a rotation of the key is unfinished, having done nothing', async () => {
      env = await splitWorld(() => backend.open());
      const { world } = env;
      await world.journal.plan({
        keyId: SHARED,
        provider: 'internal',
        account: 'orders',
        trigger: 'manual',
        store: 'default',
        path: SHARED_PATH,
      });
      await expect(env.splitter().split(SHARED, { actor: 'test' })).rejects.toMatchObject({
        code: 'E_KEY_BUSY',
        message: expect.stringMatching(/rotation .* is unfinished \(planned\); nothing was done/),
      });
      expect(await world.operational.db.selectFrom('key_splits').selectAll().execute()).toEqual([]);
      expect(await liveAt(world)).toEqual({ active: 1, all: 1 });
      expect(await new KeyLocks(world.operational.db, systemClock).get(SHARED)).toMatchObject({ holder: null });
    });

    it('renews the lock while consumers are awaited, past the length of one lease', async () => {
      const clock = fixedClock(new Date());
      env = await splitWorld(() => backend.open(), INTERNAL, clock);
      const { world } = env;
      const locks = new KeyLocks(world.operational.db, clock);
      const confirmers = createConsumerConfirmers({ clock: () => new Date(), env: process.env });
      // Each consumer reports the new key only on its fourth check; between checks the clock moves half a lease.
      const checks = new Map<string, number>();
      const slow = (kind: string) => {
        const confirmer = confirmers(kind)!;
        return {
          ...confirmer,
          check: async (...args: Parameters<typeof confirmer.check>) => {
            const seen = (checks.get(args[0].name) ?? 0) + 1;
            checks.set(args[0].name, seen);
            return seen < 4 ? { state: 'waiting' as const, detail: 'not yet' } : confirmer.check(...args);
          },
        };
      };
      const takenMeanwhile: (string | undefined)[] = [];
      const sleep = async (ms: number) => {
        clock.advance(30_000);
        takenMeanwhile.push((await locks.acquire(SHARED, OTHER))?.holder);
        await new Promise((resolve) => setTimeout(resolve, ms));
      };
      const result = await env
        .splitter(undefined, { confirmers: slow, sleep, leaseMs: 60_000 })
        .split(SHARED, { actor: 'test' });
      expect(result.revoked).toBe(true);
      // Nine half-leases went by (three per team); nobody could take the key at any of them.
      expect(takenMeanwhile).toHaveLength(9);
      expect(takenMeanwhile.every((holder) => holder === undefined)).toBe(true);
    });

    it('a paused split is fenced: another run takes the key after its lease, resumes and finishes; the paused one does nothing more', async () => {
      const clock = fixedClock(new Date());
      env = await splitWorld(() => backend.open(), INTERNAL, clock);
      const { world } = env;
      const locks = new KeyLocks(world.operational.db, clock);
      const paused = new Gate();
      paused.arm();
      const a = env.splitter(stuckMover(paused), { leaseOwner: 'replica-a', leaseMs: 60_000 });
      const b = env.splitter(undefined, { leaseOwner: 'replica-b', leaseMs: 60_000 });
      const runningA = a.split(SHARED, { actor: 'a' }).catch((error: unknown) => error);
      await paused.reached;
      expect(await locks.get(SHARED)).toMatchObject({ holder: 'replica-a', operation: 'split', token: 1 });
      // While A's lease holds, B is refused having done nothing.
      await expect(b.split(SHARED, { actor: 'b' })).rejects.toMatchObject({ code: 'E_KEY_BUSY' });
      clock.advance(60_001);
      const result = await b.split(SHARED, { actor: 'b' });
      expect(result).toMatchObject({ revoked: true, resumed: true });
      paused.release();
      expect(await runningA).toMatchObject({ code: 'E_KEY_LOCK_LOST' });
      // One key per team, minted once (A's growth key was taken over by B), the shared key revoked once.
      expect(await liveAt(world)).toEqual({ active: 3, all: 4 });
      const revokes = await world.operational.db
        .selectFrom('events')
        .select('seq')
        .where('type', '=', 'revoked')
        .execute();
      expect(revokes).toHaveLength(1);
      const rows = await world.operational.db.selectFrom('key_splits').select(['team', 'state', 'detail']).execute();
      expect(rows.every((row) => row.state === 'done' && row.detail === `shared key ${SHARED} revoked`)).toBe(true);
      expect(await locks.get(SHARED)).toMatchObject({ holder: null, token: 2 });
    });

    it('a split resumed after its process died takes the lock over at once (same host) and finishes', async () => {
      env = await splitWorld(() => backend.open());
      const { world } = env;
      const locks = new KeyLocks(world.operational.db, systemClock);
      // A holder name of a process on this host that has exited: what a crashed `keyledger split` leaves.
      const deadPid = spawnSync(process.execPath, ['-e', '0']).pid;
      const dead = `${hostname()}:${deadPid}:-:deadbeef`;
      const stuck = new Gate();
      stuck.arm();
      const crashed = env
        .splitter(stuckMover(stuck), { leaseOwner: dead })
        .split(SHARED, { actor: 'test' })
        .catch((error: unknown) => error);
      await stuck.reached;
      expect(await locks.get(SHARED)).toMatchObject({ holder: dead, operation: 'split' });
      const result = await env.splitter().split(SHARED, { actor: 'test' });
      expect(result).toMatchObject({ revoked: true, resumed: true });
      stuck.release();
      expect(await crashed).toMatchObject({ code: 'E_KEY_LOCK_LOST' });
      expect(await liveAt(world)).toEqual({ active: 3, all: 4 });
      expect(await locks.get(SHARED)).toMatchObject({ holder: null, token: 2 });
    });
  });
});

describe('KeySplitter on a provider sandbox (Datadog, over real HTTP)', () => {
  const backend = createTestBackend('sqlite');
  let sandbox: RunningSandbox;
  let env: SplitWorld | undefined;

  beforeAll(async () => {
    sandbox = await startSandbox({ org: 'none', providers: ['datadog'], rateLimits: 'off' });
  });
  afterAll(async () => {
    await env?.stop();
    await sandbox?.stop();
    await backend.cleanup();
  });

  it('splits a Datadog API key shared by three teams: three keys, no failed call, the shared key revoked', async () => {
    const datadog = createProvider(
      'datadog',
      { ...sandbox.providerOptions('datadog'), rateLimit: 'off' },
      { clock: systemClock },
    );
    env = await splitWorld(() => backend.open(), { name: 'datadog', provider: datadog, permissions: [] });
    const { world, services } = env;
    const shared = (await world.writer.read(SHARED))!.entry;
    const result = await env.splitter().split(SHARED, { actor: 'test' });
    expect(result.revoked).toBe(true);
    for (const team of TEAMS) {
      const own = (await world.writer.read(`${SHARED}-${team}`))!.entry;
      expect(own.owner_team).toBe(team);
      expect(own.provider_key_id).not.toBe(shared.provider_key_id);
    }
    for (const service of Object.values(services)) await service.callAll();
    expect(Object.values(services).map((s) => s.stats().failures)).toEqual([0, 0, 0]);
    expect(Object.values(services).every((s) => s.stats().calls > 0)).toBe(true);
    const listed = new Map<string, string>();
    for await (const key of datadog.list()) listed.set(key.providerKeyId, key.status);
    expect(listed.has(String(shared.provider_key_id)) && listed.get(String(shared.provider_key_id)) === 'active').toBe(
      false,
    );
    for (const team of TEAMS)
      expect(listed.get(String((await world.writer.read(`${SHARED}-${team}`))!.entry.provider_key_id))).toBe('active');
  });
});
