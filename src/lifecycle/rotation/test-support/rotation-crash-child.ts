// The process the crash test kills: it opens the same SQLite store and git registry as its parent, finishes (or
// rolls back) whatever the journal holds, then rotates random keys until it is killed with SIGKILL.
import { openOperationalStore } from '../../../db/operational-store.js';
import { createRotationWorld } from './rotation-fixture.js';

interface ChildConfig {
  dataDir: string;
  root: string;
  keyIds: string[];
  fingerprintKey: string;
  masterKey: string;
}

const config = JSON.parse(process.env.KEYLEDGER_CRASH_CHILD ?? '{}') as ChildConfig;
// Started ahead of its turn (while the previous child still runs): wait for the parent's go before touching anything.
process.stdout.write('loaded\n');
await new Promise<void>((resolve) => {
  process.stdin.once('data', () => resolve());
});
const operational = await openOperationalStore({ dataDir: config.dataDir, migrate: false });
const world = await createRotationWorld({
  operational,
  root: config.root,
  fingerprintKey: { version: 'v1', key: Buffer.from(config.fingerprintKey, 'hex') },
  masterKey: Buffer.from(config.masterKey, 'hex'),
});
await world.consumer.stop(); // the parent runs the consumer that must survive our deaths
const rotator = world.rotator({
  options: { confirmTimeoutMs: 30_000, confirmPollMs: 5, retryBaseMs: 20, leaseMs: 60_000 },
});
process.stdout.write('ready\n');
await rotator.resumeAll({ waitForRetries: true });
process.stdout.write('resumed\n');
for (;;) {
  const keyId = config.keyIds[Math.floor(Math.random() * config.keyIds.length)]!;
  await rotator.rotate(keyId, 'manual');
}
