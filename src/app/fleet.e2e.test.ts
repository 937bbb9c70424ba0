// Issue 19's Must show (docs/scale-out.md): THREE `keyledger server` replica processes over one PostgreSQL database
// (a fresh one) and one registry are given 5,000 due rotations against the GitLab sandbox (its limit raised), while
// replicas are killed with SIGKILL at random moments and started again. Afterwards: every key was rotated exactly
// once (one `done` rotation per key; at the sandbox, the key's tokens minted minus revoked is one, and the live one is
// the registry's and the store's), no consumer call failed (the sandbox consumer keeps using every key with the
// secret it holds), no job is stuck (none queued, running or failed), and no lease is held by a dead replica (jobs or
// journal rows). The suite runs 500 keys: 1,000 took 47-128 s of rotation on the 2-core machine, the suite's longest
// file beside the install test, and kept `npm test` near 20 minutes; 500 still makes several SIGKILLs land mid-rotation.
// KEYLEDGER_FLEET_KEYS=5000 runs the full size (docs/scale-out.md), KEYLEDGER_FLEET_KEYS=200 a quick check.
import { sql } from 'kysely';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { JobQueue } from '../jobs/job-queue.js';
import { ReplicaHeartbeats } from '../jobs/replica-heartbeats.js';
import { defaultRegistryConfig } from '../registry/registry-config.js';
import { RegistryWriter } from '../registry/registry-writer.js';
import { systemClock } from '../runtime/clock.js';
import { ROTATION_ROTATE } from './rotation-job-kinds.js';
import { createFleetWorld, type FleetWorld, type Replica } from './test-support/fleet-harness.js';

const KEYS = Number(process.env.KEYLEDGER_FLEET_KEYS ?? 500);
/**
 * The rotations must be over by then (the wall time the suite allows this test, set-up aside): 540 s, or 0.2 s a key
 * for a larger fleet; KEYLEDGER_FLEET_BUDGET_S sets it (a run on a machine shared with other work).
 */
const ROTATION_BUDGET_MS = process.env.KEYLEDGER_FLEET_BUDGET_S
  ? Number(process.env.KEYLEDGER_FLEET_BUDGET_S) * 1000
  : Math.max(540_000, KEYS * 200);

let world: FleetWorld;
const log = (line: string) => process.stderr.write(`[fleet] ${line}\n`);

beforeAll(async () => {
  const started = Date.now();
  world = await createFleetWorld({ keys: KEYS, log });
  log(`set-up: ${KEYS} keys in ${((Date.now() - started) / 1000).toFixed(1)}s`);
}, 600_000);

afterAll(async () => {
  await world?.stop();
}, 60_000);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

it(
  `three replicas rotate ${KEYS} due keys exactly once while replicas are SIGKILLed`,
  async () => {
    const db = world.store.db;
    const queue = new JobQueue(db, systemClock);
    const heartbeats = new ReplicaHeartbeats(db, systemClock, { beatMs: 1_000 });
    const doneKeys = async () =>
      Number(
        (
          await db
            .selectFrom('rotation_journal')
            .select(sql<number>`count(distinct key_id)`.as('n'))
            .where('state', '=', 'done')
            .executeTakeFirstOrThrow()
        ).n,
      );
    const replicas: Replica[] = await Promise.all([0, 1, 2].map(() => world.startReplica()));
    const started = Date.now();
    let kills = 0;
    const killedPids: number[] = [];
    // Kill one replica at a random moment 1-4 s after the last one is back (a restart takes a few seconds more) and
    // start another in its place, until every key is done. (3-9 s gave only 4 kills when 1,000 keys took 47 s.)
    while ((await doneKeys()) < KEYS && Date.now() - started < ROTATION_BUDGET_MS) {
      await sleep(1_000 + Math.random() * 3_000);
      if ((await doneKeys()) >= KEYS) break;
      const index = Math.floor(Math.random() * replicas.length);
      const victim = replicas[index]!;
      victim.child.kill('SIGKILL');
      await victim.exited;
      killedPids.push(victim.child.pid!);
      kills += 1;
      log(
        `${Math.round((Date.now() - started) / 1000)}s: killed replica ${index + 1}; ${await doneKeys()}/${KEYS} keys done`,
      );
      replicas[index] = await world.startReplica();
    }
    const rotatedIn = (Date.now() - started) / 1000;
    log(`${KEYS} keys rotated in ${rotatedIn.toFixed(1)}s with ${kills} kills`);
    // A kill every 5-8 s (the wait, then the restart): 500 keys took ~25 s on a quiet machine, so at least three.
    expect(kills).toBeGreaterThanOrEqual(KEYS >= 1_000 ? 5 : KEYS >= 500 ? 3 : 1);
    expect(await doneKeys(), replicas.map((replica) => replica.tail()).join('\n')).toBe(KEYS);

    // Quiet: no rotation open, no rotate job open (the ticks that still run find nothing due).
    await expect
      .poll(
        async () => {
          const open = await queue.list({ kind: ROTATION_ROTATE, states: ['queued', 'running'] });
          const unfinished = await db
            .selectFrom('rotation_journal')
            .select('key_id')
            .where('state', 'not in', ['done', 'rolled-back', 'failed'])
            .execute();
          return open.length + unfinished.length;
        },
        { timeout: 60_000, interval: 500 },
      )
      .toBe(0);

    // No lease held by a dead replica: every running job is held by a live replica, every journal row let go.
    const alive = await heartbeats.aliveIds();
    expect(alive.size).toBe(3);
    const running = await queue.list({ states: ['running'] });
    expect(running.filter((job) => !alive.has(job.lease_owner ?? ''))).toEqual([]);
    const leased = await db
      .selectFrom('rotation_journal')
      .select(['key_id', 'lease_owner'])
      .where('lease_owner', 'is not', null)
      .execute();
    expect(leased).toEqual([]);
    // Killed replicas left heartbeats that stopped, never a live-looking one.
    const listed = await heartbeats.list();
    for (const pid of killedPids) expect(listed.filter((replica) => replica.pid === pid && replica.alive)).toEqual([]);

    // The consumer uses every key once more with what it holds now: every call must work.
    await world.consumer.callAll();
    const stats = world.consumer.stats();
    log(`consumer: ${stats.calls} calls, ${stats.fallbacks} fallbacks, ${stats.failures} failures`);
    // Soft: a failing call still lets the run report the exactly-once and sandbox checks below (one run takes minutes).
    if (stats.failures > 0) {
      // What the journal, the sandbox and the event log say about the first keys that failed (no secret in any).
      const sample = [...new Set(stats.failureLog.map((failure) => failure.keyId))].slice(0, 3);
      const journal = await db
        .selectFrom('rotation_journal')
        .select(['key_id', 'rotation_id', 'state', 'old_provider_key_id', 'new_provider_key_id', 'new_version_id'])
        .select(['attempts', 'rollback_reason', 'failure', 'created_at', 'updated_at', 'state_entered_at'])
        .where('key_id', 'in', sample)
        .orderBy('created_at')
        .execute();
      const events = await db
        .selectFrom('events')
        .select(['seq', 'at', 'type', 'actor', 'key_id', 'data'])
        .where('key_id', 'in', sample)
        .orderBy('seq')
        .execute();
      const tokens = (await world.control.groundTruth<{ tokens: Array<{ name: string }> }>()).tokens.filter((token) =>
        sample.some((keyId) => token.name.startsWith(keyId)),
      );
      log(
        `consumer failures: ${JSON.stringify(stats.failureLog.slice(0, 5))}; journal ${JSON.stringify(journal)}; ` +
          `events ${JSON.stringify(events)}; sandbox tokens ${JSON.stringify(tokens)}`,
      );
    }
    expect.soft(stats.failureLog.slice(0, 5)).toEqual([]);
    expect.soft(stats.failures).toBe(0);

    // Exactly once: one done rotation per key in the journal...
    const perKey = await db
      .selectFrom('rotation_journal')
      .select(['key_id', sql<number>`count(*)`.as('n')])
      .where('state', '=', 'done')
      .groupBy('key_id')
      .execute();
    const twice = perKey.filter((row) => Number(row.n) !== 1);
    if (twice.length > 0) {
      // What the journal and the queue say about the first few, for the diagnosis (no secret in either table).
      const sample = twice.slice(0, 4).map((row) => row.key_id);
      const rows = await db
        .selectFrom('rotation_journal')
        .select(['key_id', 'rotation_id', 'trigger', 'state', 'old_provider_key_id', 'new_provider_key_id'])
        .select(['created_at', 'updated_at', 'lease_owner', 'fence_token'])
        .where('key_id', 'in', sample)
        .orderBy('key_id')
        .orderBy('created_at')
        .execute();
      const jobs = await db
        .selectFrom('jobs')
        .selectAll()
        .where(
          'dedupe_key',
          'in',
          sample.map((keyId) => `rotation:${keyId}`),
        )
        .execute();
      log(
        `rotated more than once: ${twice.length} keys; journal ${JSON.stringify(rows)}; jobs ${JSON.stringify(jobs)}`,
      );
    }
    expect(twice).toEqual([]);
    // ...and at the sandbox: per key, tokens minted minus revoked is one, the live one the registry's.
    const truth = await world.control.groundTruth<{ tokens: Array<{ id: number; name: string; revoked: boolean }> }>();
    const byKey = new Map<string, { minted: number; revoked: number; live: string[] }>();
    for (const token of truth.tokens) {
      const keyId = token.name.replace(/\.rot-[0-9a-f]{8}$/, '');
      const counts = byKey.get(keyId) ?? { minted: 0, revoked: 0, live: [] };
      counts.minted += 1;
      if (token.revoked) counts.revoked += 1;
      else counts.live.push(String(token.id));
      byKey.set(keyId, counts);
    }
    const writer = new RegistryWriter({ root: world.registry, config: defaultRegistryConfig(), env: world.env });
    const wrong: string[] = [];
    let extraMints = 0;
    for (const keyId of world.keyIds) {
      const counts = byKey.get(keyId);
      const entry = (await writer.read(keyId))?.entry;
      if (!counts || counts.minted - counts.revoked !== 1 || counts.live[0] !== entry?.provider_key_id)
        wrong.push(`${keyId}: ${JSON.stringify(counts)} registry ${entry?.provider_key_id}`);
      if (counts) extraMints += counts.minted - 2;
      if (entry?.last_rotated?.startsWith(new Date(Date.now() - 40 * 86_400_000).toISOString().slice(0, 10)))
        wrong.push(`${keyId}: last_rotated not moved`);
    }
    log(
      `sandbox: ${truth.tokens.length} tokens; mints beyond one per rotation (a crash mid-mint, revoked again): ${extraMints}`,
    );
    expect(wrong.slice(0, 10)).toEqual([]);

    // No job stuck or given up.
    const failed = await queue.list({ states: ['failed'] });
    expect(failed.map((job) => `${job.kind}: ${job.failure}`)).toEqual([]);

    // A clean stop gives every lease back.
    for (const replica of replicas) replica.child.kill('SIGTERM');
    const codes = await Promise.all(replicas.map((replica) => replica.exited));
    expect(codes).toEqual([0, 0, 0]);
    expect(await queue.list({ states: ['running'] })).toEqual([]);
  },
  ROTATION_BUDGET_MS + 360_000,
);
