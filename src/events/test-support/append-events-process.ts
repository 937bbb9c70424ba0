// A child process for the concurrency tests: opens the store described by argv[2] (JSON options), waits at the
// barrier directory argv[3] for argv[4] siblings, then appends argv[5] events one at a time, each in its own
// transaction.
import { openOperationalStore } from '../../db/operational-store.js';
import { waitAtBarrier } from '../../db/test-support/process-barrier.js';
import { EventLog } from '../event-log.js';

const options = JSON.parse(process.argv[2] ?? '{}');
const count = Number(process.argv[5] ?? 1);
const store = await openOperationalStore(options);
try {
  const log = new EventLog(store.db);
  await waitAtBarrier(process.argv[3] ?? '', Number(process.argv[4] ?? 1));
  for (let index = 0; index < count; index += 1) {
    await log.append({ type: 'verified', actor: `process:${process.pid}`, data: { index } });
  }
  process.stdout.write(JSON.stringify({ appended: count }));
} finally {
  await store.close();
}
