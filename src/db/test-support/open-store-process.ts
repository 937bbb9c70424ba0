// A child process for the concurrency tests: waits at the barrier directory argv[3] for argv[4] siblings, then
// opens the store described by argv[2] (JSON options) and prints the migrations this process applied as JSON. The migration
// table gets one extra step that dawdles, to widen the window in which unlocked migrators would race.
import { setTimeout as sleep } from 'node:timers/promises';
import { operationalMigrations } from '../migrations/index.js';
import { openOperationalStore } from '../operational-store.js';
import { waitAtBarrier } from './process-barrier.js';

const options = JSON.parse(process.argv[2] ?? '{}');
const migrations = {
  ...operationalMigrations,
  '9999_dawdle': {
    up: async () => {
      await sleep(300);
    },
  },
};
await waitAtBarrier(process.argv[3] ?? '', Number(process.argv[4] ?? 1));
const store = await openOperationalStore({ ...options, migrations });
try {
  process.stdout.write(JSON.stringify({ applied: store.appliedMigrations }));
} finally {
  await store.close();
}
