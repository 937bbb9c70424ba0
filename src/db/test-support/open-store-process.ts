// A child process for the concurrency tests: opens the store described by argv[2] (JSON options) at the instant
// argv[3] (epoch ms), so siblings collide, and prints the migrations this process applied as JSON. The migration
// table gets one extra step that dawdles, to widen the window in which unlocked migrators would race.
import { setTimeout as sleep } from 'node:timers/promises';
import { operationalMigrations } from '../migrations/index.js';
import { openOperationalStore } from '../operational-store.js';

const options = JSON.parse(process.argv[2] ?? '{}');
const startAt = Number(process.argv[3] ?? 0);
const migrations = {
  ...operationalMigrations,
  '9999_dawdle': {
    up: async () => {
      await sleep(300);
    },
  },
};
await sleep(Math.max(0, startAt - Date.now()));
const store = await openOperationalStore({ ...options, migrations });
try {
  process.stdout.write(JSON.stringify({ applied: store.appliedMigrations }));
} finally {
  await store.close();
}
