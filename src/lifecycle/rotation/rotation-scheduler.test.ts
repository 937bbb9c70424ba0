// The scheduler with a scripted rotator (no provider, store or registry): providers run side by side, each paced
// to its budget and bounded by its concurrency; a slow provider does not hold up a fast one; a rotation that
// releases its slot (waiting on a shared registry commit) lets the next key start; a 429 pauses its provider.
import { describe, expect, it } from 'vitest';
import type { Provider, ProviderCapabilities, RateLimit } from '../../providers/provider.js';
import type { KeyEntry } from '../../registry/key-entry-schema.js';
import { systemClock } from '../../runtime/clock.js';
import type { KeyRotator, RotationOutcome } from './key-rotator.js';
import type { DueKey } from './rotation-due.js';
import type { RotationRow } from './rotation-journal.js';
import { RotationScheduler, requestsPerRotation } from './rotation-scheduler.js';

function provider(name: string, limit: RateLimit): Provider {
  return {
    name,
    rateLimit: () => limit,
    capabilities: () => ({ create: true, list: false, verify: true }),
  } as unknown as Provider;
}

function due(provider: string, count: number): DueKey[] {
  return Array.from({ length: count }, (_, index) => ({
    keyId: `${provider}-${index}`,
    file: '',
    entry: { key_id: `${provider}-${index}`, scope: { provider } } as unknown as KeyEntry,
    trigger: 'schedule' as const,
    dueAt: new Date(),
    reason: 'test',
  }));
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A rotator whose drive() runs `script` for the key; records starts and the rotations in flight per provider. */
function scriptedRotator(script: (keyId: string, attempt: number) => Promise<RotationOutcome['status']>) {
  const starts: Record<string, number[]> = {};
  const inFlight: Record<string, number> = {};
  const maxInFlight: Record<string, number> = {};
  const attempts = new Map<string, number>();
  const rotator = {
    plan: async (keyId: string) => {
      const name = keyId.split('-')[0]!;
      starts[name] ??= [];
      starts[name].push(performance.now());
      return { row: { rotation_id: `rotation-${keyId}` }, created: true };
    },
    drive: async (rotationId: string) => {
      const keyId = rotationId.replace('rotation-', '');
      const name = keyId.split('-')[0]!;
      inFlight[name] = (inFlight[name] ?? 0) + 1;
      maxInFlight[name] = Math.max(maxInFlight[name] ?? 0, inFlight[name]!);
      const attempt = (attempts.get(keyId) ?? 0) + 1;
      attempts.set(keyId, attempt);
      try {
        const status = await script(keyId, attempt);
        const row = {
          rotation_id: rotationId,
          key_id: keyId,
          failure: status === 'deferred' ? 'rate limited (429)' : null,
          not_before: status === 'deferred' ? new Date(Date.now() + 300).toISOString() : null,
        } as unknown as RotationRow;
        return status === 'busy' ? { status, rotationId } : ({ status, row } as RotationOutcome);
      } finally {
        inFlight[name] = inFlight[name]! - 1;
      }
    },
  };
  return { rotator: rotator as unknown as KeyRotator, starts, maxInFlight, attempts };
}

describe('RotationScheduler', () => {
  it('runs providers side by side: a slow one is paced to its budget and does not hold up a fast one', async () => {
    const { rotator, starts } = scriptedRotator(async () => {
      await sleep(5);
      return 'done';
    });
    const providers: Record<string, Provider> = {
      slow: provider('slow', { requests: 30, perSeconds: 1 }), // 3 calls a rotation: 10 rotations/s
      fast: provider('fast', { requests: 30_000, perSeconds: 1 }),
    };
    const scheduler = new RotationScheduler({ rotator, providers: (name) => providers[name]!, clock: systemClock });
    const report = await scheduler.run([...due('slow', 10), ...due('fast', 200)], { concurrency: 8 });
    expect(report).toMatchObject({ done: 210, failed: 0, deferred: 0, errors: [] });
    const fastEnded = Math.max(...starts.fast!);
    const slowStarts = starts.slow!;
    // The fast provider's 200 keys all started before the slow one's 10 (paced 100 ms apart) were through.
    expect(fastEnded).toBeLessThan(slowStarts[slowStarts.length - 1]!);
    expect(slowStarts[slowStarts.length - 1]! - slowStarts[0]!).toBeGreaterThanOrEqual(9 * 100 - 20);
  });

  it('keeps at most `concurrency` rotations in flight per provider', async () => {
    const { rotator, maxInFlight } = scriptedRotator(async () => {
      await sleep(10);
      return 'done';
    });
    const scheduler = new RotationScheduler({
      rotator,
      providers: () => provider('p', { requests: 1_000_000, perSeconds: 1 }),
      clock: systemClock,
    });
    const report = await scheduler.run(due('p', 60), { concurrency: 4 });
    expect(report.done).toBe(60);
    expect(maxInFlight.p).toBe(4);
    expect(report.byProvider.p!.workers).toBe(4);
  });

  it('a rotation that releases its slot (waiting for a shared commit) lets the next key start', async () => {
    let scheduler: RotationScheduler;
    let commit: () => void = () => undefined;
    let committed = new Promise<void>((resolve) => {
      commit = resolve;
    });
    const { rotator, maxInFlight } = scriptedRotator(async (keyId) => {
      await sleep(2);
      scheduler.releaseSlot(keyId);
      await committed; // every rotation waits for the one batch commit
      return 'done';
    });
    scheduler = new RotationScheduler({
      rotator,
      providers: () => provider('p', { requests: 1_000_000, perSeconds: 1 }),
      clock: systemClock,
    });
    const running = scheduler.run(due('p', 20), { concurrency: 2 });
    await sleep(300);
    expect(maxInFlight.p).toBe(20); // all started, two at a time at the provider, while the commit had not come
    commit();
    committed = Promise.resolve();
    const report = await running;
    expect(report.done).toBe(20);
  });

  it('a 429 defers the key and pauses its provider; the key is rotated when the pause ends', async () => {
    const { rotator, attempts, starts } = scriptedRotator(async (keyId, attempt) =>
      keyId === 'p-0' && attempt === 1 ? 'deferred' : 'done',
    );
    const scheduler = new RotationScheduler({
      rotator,
      providers: () => provider('p', { requests: 1_000_000, perSeconds: 1 }),
      clock: systemClock,
    });
    const started = performance.now();
    const report = await scheduler.run(due('p', 3), { concurrency: 1 });
    expect(report).toMatchObject({ done: 3, deferred: 0 });
    expect(attempts.get('p-0')).toBe(2);
    expect(starts.p!.length).toBe(3); // planned once; the retry drives the same rotation
    expect(performance.now() - started).toBeGreaterThanOrEqual(250);
  });

  it('groups thousands of keys by provider in linear time', async () => {
    const { rotator } = scriptedRotator(async () => 'done');
    const scheduler = new RotationScheduler({
      rotator,
      providers: (name) => provider(name, { requests: 1_000_000, perSeconds: 1 }),
      clock: systemClock,
    });
    const keys = [...due('a', 20_000), ...due('b', 20_000)];
    const report = await scheduler.run(keys, { concurrency: 64 });
    expect(report.done).toBe(40_000);
  }, 60_000);
});

describe('requestsPerRotation', () => {
  const withCapabilities = (capabilities: Partial<ProviderCapabilities>) =>
    ({ name: 'any', capabilities: () => ({ create: true, verify: true, revoke: true, ...capabilities }) }) as Provider;

  it('counts create, verify and revoke, two lists where keys per account are capped (the preflight and the room check), and every call of the revoke', () => {
    expect(requestsPerRotation(withCapabilities({ list: true }))).toBe(3);
    expect(requestsPerRotation(withCapabilities({ list: true, maxKeysPerAccount: 2 }))).toBe(5);
    // Read off the capability, whatever the provider's name (AWS IAM's revoke deactivates, then deletes).
    expect(requestsPerRotation(withCapabilities({ list: true, maxKeysPerAccount: 2, revokeCalls: 2 }))).toBe(6);
    expect(requestsPerRotation(withCapabilities({ list: false, revokeCalls: 2 }))).toBe(4);
  });
});
