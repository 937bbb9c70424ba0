// A start line for child processes in concurrency tests: each process announces itself in a shared directory and
// waits until all have, so they collide however slowly each one started (tsx start-up varies by seconds on a busy
// machine, which a fixed start time does not absorb).
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export async function waitAtBarrier(directory: string, participants: number, timeoutMs = 30_000): Promise<void> {
  mkdirSync(directory, { recursive: true });
  writeFileSync(join(directory, `ready-${process.pid}`), '');
  const deadline = Date.now() + timeoutMs;
  while (readdirSync(directory).length < participants) {
    if (Date.now() > deadline) throw new Error(`barrier ${directory}: fewer than ${participants} processes arrived`);
    await sleep(2);
  }
}
