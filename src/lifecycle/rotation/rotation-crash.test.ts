// The crash test, small: a rotation process killed with SIGKILL at random moments 30 times, resumed after each.
// The full run (1,000 kills) is `npx tsx scripts/rotation-crash-test.ts`.
import { expect, it } from 'vitest';
import { runRotationCrashTest } from './test-support/rotation-crash-harness.js';

it('30 SIGKILLs at random points: one working current key each, no orphan, no consumer failure, nothing stuck', async () => {
  const report = await runRotationCrashTest({ kills: 30, keys: 3 });
  expect(report.journal.done ?? 0).toBeGreaterThan(0);
  expect(Object.keys(report.killedIn).length).toBeGreaterThan(1);
  expect(report.consumerCalls).toBeGreaterThan(100);
  expect({
    keysWithoutOneWorkingCurrent: report.keysWithoutOneWorkingCurrent,
    orphanedProviderKeys: report.orphanedProviderKeys,
    consumerFailures: report.consumerFailures,
    stuckJournalEntries: report.stuckJournalEntries,
  }).toEqual({ keysWithoutOneWorkingCurrent: 0, orphanedProviderKeys: 0, consumerFailures: 0, stuckJournalEntries: 0 });
}, 180_000);
