// Waits `ms`, or less when `signal` aborts first: the schedulers' sleep until their next tick
// (src/jobs/job-schedule.ts, src/lifecycle/rotation/rotation-controller.ts), so a shutdown never waits out a tick.
export function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted || ms <= 0) return resolve();
    // setTimeout takes at most a signed 32-bit delay; a longer one would fire at once.
    const timer = setTimeout(done, Math.min(ms, 2_147_000_000));
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
