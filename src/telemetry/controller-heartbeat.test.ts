import { afterEach, expect, it, vi } from 'vitest';
import { fixedClock } from '../runtime/clock.js';
import { ControllerHeartbeat } from './controller-heartbeat.js';

afterEach(() => {
  vi.useRealTimers();
});

it('beats on an interval while the controller runs, and stops when it is aborted', () => {
  vi.useFakeTimers();
  const clock = fixedClock('2026-01-01T00:00:00Z');
  const heartbeat = new ControllerHeartbeat();
  expect(heartbeat.last()).toBeUndefined();
  const stop = new AbortController();
  heartbeat.keepAlive(clock, { signal: stop.signal, everyMs: 1_000 });
  expect(heartbeat.last()?.toISOString()).toBe('2026-01-01T00:00:00.000Z');
  clock.advance(1_000);
  vi.advanceTimersByTime(1_000);
  expect(heartbeat.last()?.toISOString()).toBe('2026-01-01T00:00:01.000Z');
  stop.abort();
  clock.advance(5_000);
  vi.advanceTimersByTime(5_000);
  expect(heartbeat.last()?.toISOString()).toBe('2026-01-01T00:00:01.000Z');
});

it('stops beating when the controller loop it watches ends', async () => {
  vi.useFakeTimers();
  const clock = fixedClock('2026-01-01T00:00:00Z');
  const heartbeat = new ControllerHeartbeat();
  let finish!: () => void;
  const running = new Promise<void>((resolve) => {
    finish = resolve;
  });
  heartbeat.keepAlive(clock, { signal: new AbortController().signal, everyMs: 1_000, running });
  finish();
  await running;
  await Promise.resolve();
  clock.advance(3_000);
  vi.advanceTimersByTime(3_000);
  expect(heartbeat.last()?.toISOString()).toBe('2026-01-01T00:00:00.000Z');
});
