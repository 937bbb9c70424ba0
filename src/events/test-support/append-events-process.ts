// A child process for the concurrency tests: opens the store described by argv[2] (JSON options), waits at the
// barrier directory argv[3] for argv[4] siblings, then appends argv[5] events one at a time, each in its own
// transaction. The siblings go in rounds: after its n-th append a process waits until every sibling has made its
// n-th too, so the appends of each round race each other whatever the scheduler does — on a saturated machine,
// free-running processes sometimes ran one after another and the test proved nothing about concurrent appends.
import { setTimeout as sleep } from 'node:timers/promises';
import { sql } from 'kysely';
import { openOperationalStore } from '../../db/operational-store.js';
import { waitAtBarrier } from '../../db/test-support/process-barrier.js';
import { EventLog } from '../event-log.js';

const options = JSON.parse(process.argv[2] ?? '{}');
const siblings = Number(process.argv[4] ?? 1);
const count = Number(process.argv[5] ?? 1);
const store = await openOperationalStore(options);
try {
  const log = new EventLog(store.db);
  await waitAtBarrier(process.argv[3] ?? '', siblings);
  for (let index = 0; index < count; index += 1) {
    await log.append({ type: 'verified', actor: `process:${process.pid}`, data: { index } });
    await roundComplete((index + 1) * siblings);
  }
  process.stdout.write(JSON.stringify({ appended: count }));
} finally {
  await store.close();
}

/** Waits until the log holds `events` events (every sibling's append of this round), for at most a minute. */
async function roundComplete(events: number): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const { rows } = await sql<{ n: number | string }>`select count(*) as n from events`.execute(store.db);
    if (Number(rows[0]?.n ?? 0) >= events) return;
    if (Date.now() > deadline) throw new Error(`round of ${events} events not complete after 60 s`);
    await sleep(2);
  }
}
