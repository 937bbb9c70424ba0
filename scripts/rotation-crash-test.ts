// The rotation crash test: `npx tsx scripts/rotation-crash-test.ts [kills=1000] [keys=4]`. Kills a rotating
// process with SIGKILL at random points, resumes after each, then prints the four counts that must all be zero.
// Exit 0 when they are, 1 otherwise.
import { runRotationCrashTest } from '../src/lifecycle/rotation/test-support/rotation-crash-harness.js';

const kills = Number(process.argv[2] ?? 1000);
const keys = Number(process.argv[3] ?? 4);
const report = await runRotationCrashTest({ kills, keys, log: (line) => process.stderr.write(`${line}\n`) });
process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
process.stdout.write(
  [
    `kills: ${report.kills} over ${report.keys} keys in ${report.seconds.toFixed(0)}s; journal ${JSON.stringify(report.journal)}`,
    `killed while in: ${JSON.stringify(report.killedIn)}`,
    `consumer calls: ${report.consumerCalls} (fallbacks to the previous key: ${report.consumerFallbacks})`,
    `keys without exactly one working current secret: ${report.keysWithoutOneWorkingCurrent}`,
    `orphaned provider keys: ${report.orphanedProviderKeys}`,
    `consumer calls without a working key: ${report.consumerFailures}`,
    `stuck journal entries: ${report.stuckJournalEntries}`,
  ].join('\n') + '\n',
);
const bad =
  report.keysWithoutOneWorkingCurrent +
  report.orphanedProviderKeys +
  report.consumerFailures +
  report.stuckJournalEntries;
process.exit(bad === 0 ? 0 : 1);
