import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

// Test files run side by side in this many worker processes, one per core and at least two: vitest's default
// (cores - 1) is one worker on a 2-core CI machine, which ran the suite one file at a time while most tests wait on
// PostgreSQL, git, HTTP and child processes. More workers than cores was not measured on a quiet machine, and some
// tests time real work (30 s test timeout, org-generator's 100,000 keys), so one per core. Every test file can run
// beside any other: ports are ephemeral, databases and temporary directories have unique names
// (src/db/test-support/test-databases.ts, vitest.global-setup.ts). KEYLEDGER_TEST_WORKERS overrides the count
// (1 runs one file at a time).
const workers = Number(process.env.KEYLEDGER_TEST_WORKERS) || Math.max(2, availableParallelism());

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'bench/**/*.test.ts'],
    pool: 'forks',
    maxWorkers: workers,
    minWorkers: Math.min(workers, 2),
    globalSetup: ['./vitest.global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    reporters: ['default'],
  },
});
