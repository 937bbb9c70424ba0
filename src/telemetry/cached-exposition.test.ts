import { describe, expect, it } from 'vitest';
import { fixedClock } from '../runtime/clock.js';
import { CachedExposition } from './cached-exposition.js';

function deferred<T>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((done) => {
    resolve = done;
  });
  return { promise, resolve };
}

function setup(options: { maxAgeMs?: number } = {}) {
  const clock = fixedClock('2026-01-01T00:00:00Z');
  let token = 'a';
  let builds = 0;
  let gate: Promise<void> | undefined;
  let fail = false;
  const cache = new CachedExposition({
    clock,
    checkEveryMs: 1_000,
    maxAgeMs: options.maxAgeMs ?? 60_000,
    changeToken: async () => token,
    build: async (facts) => {
      builds += 1;
      if (gate) await gate;
      if (fail) throw new Error('store down');
      return { text: `build ${builds} failures ${facts.rebuildFailures}\n`, series: builds };
    },
  });
  return {
    cache,
    clock,
    setToken: (next: string) => {
      token = next;
    },
    builds: () => builds,
    hold: (promise: Promise<void> | undefined) => {
      gate = promise;
    },
    failBuilds: (value: boolean) => {
      fail = value;
    },
  };
}

describe('CachedExposition', () => {
  it('builds once, then rebuilds only when the change token moves', async () => {
    const { cache, clock, setToken, builds } = setup();
    expect((await cache.current()).text).toBe('build 1 failures 0\n');
    clock.advance(5_000);
    await cache.refresh();
    expect(builds()).toBe(1);
    setToken('b');
    await cache.refresh();
    expect(builds()).toBe(2);
    expect((await cache.current()).text).toBe('build 2 failures 0\n');
  });

  it('rebuilds after maxAgeMs even when nothing changed (ages move with the clock)', async () => {
    const { cache, clock, builds } = setup({ maxAgeMs: 10_000 });
    await cache.current();
    clock.advance(9_000);
    await cache.refresh();
    expect(builds()).toBe(1);
    clock.advance(2_000);
    await cache.refresh();
    expect(builds()).toBe(2);
  });

  it('serves the previous body at once while a rebuild is under way, and starts one rebuild for many scrapes', async () => {
    const { cache, clock, setToken, builds, hold } = setup();
    await cache.current();
    setToken('b');
    clock.advance(2_000);
    const gate = deferred<void>();
    hold(gate.promise);
    // A scrape that finds the last check old triggers a rebuild in the background and is answered at once.
    const scrapes = await Promise.all([cache.current(), cache.current(), cache.current()]);
    expect(scrapes.map((body) => body.text)).toEqual(Array(3).fill('build 1 failures 0\n'));
    expect(builds()).toBe(2);
    gate.resolve();
    hold(undefined);
    await cache.refresh();
    expect((await cache.current()).text).toBe('build 2 failures 0\n');
    expect(builds()).toBe(2);
  });

  it('keeps the previous body when a rebuild fails, and counts the failure', async () => {
    const { cache, setToken, failBuilds } = setup();
    await cache.current();
    failBuilds(true);
    setToken('b');
    await cache.refresh();
    expect((await cache.current()).text).toBe('build 1 failures 0\n');
    failBuilds(false);
    await cache.refresh();
    expect((await cache.current()).text).toBe('build 3 failures 1\n');
  });

  it('gzips the body it serves', async () => {
    const { gunzipSync } = await import('node:zlib');
    const { cache } = setup();
    const body = await cache.current();
    expect(gunzipSync(body.gzipped).toString()).toBe(body.text);
  });
});
