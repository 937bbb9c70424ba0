// The process rotation-faults.test.ts kills in the middle of a rollback: it opens the parent's operational store
// (SQLite or PostgreSQL) and registry, rotates one AWS IAM key (against the parent's sandbox) with a store that
// refuses the new pending version, so the rotation rolls back — and the parent has made the sandbox hold the
// rollback's revoke long enough to kill this process inside it.
import { type OpenOperationalStoreOptions, openOperationalStore } from '../../../db/operational-store.js';
import { createProvider } from '../../../providers/provider-table.js';
import { systemClock } from '../../../runtime/clock.js';
import { FaultySecretStore } from './faulty-secret-store.js';
import { createRotationWorld } from './rotation-fixture.js';

interface ChildConfig {
  database: OpenOperationalStoreOptions;
  root: string;
  keyId: string;
  fingerprintKey: string;
  masterKey: string;
  aws: Record<string, unknown>;
}

const config = JSON.parse(process.env.KEYLEDGER_ROLLBACK_CHILD ?? '{}') as ChildConfig;
const operational = await openOperationalStore({ ...config.database, migrate: false });
const aws = createProvider(
  'aws-iam',
  { ...config.aws, retry: { baseDelayMs: 5, maxDelayMs: 50 }, rateLimit: 'off' },
  { clock: systemClock },
);
const world = await createRotationWorld({
  operational,
  root: config.root,
  fingerprintKey: { version: 'v1', key: Buffer.from(config.fingerprintKey, 'hex') },
  masterKey: Buffer.from(config.masterKey, 'hex'),
  extraProviders: { 'aws-iam': aws },
});
await world.consumer.stop();
const store = new FaultySecretStore(world.store);
store.failPendingPuts = true;
const rotator = world.rotator({ stores: () => store, options: { maxAttempts: 2, leaseMs: 60_000 } });
process.stdout.write('ready\n');
const outcome = await rotator.rotate(config.keyId, 'manual');
process.stdout.write(`finished ${outcome.status}\n`);
await operational.close();
