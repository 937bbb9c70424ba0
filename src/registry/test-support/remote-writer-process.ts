// A replica's registry writer in a process of its own, for the shared-remote tests (src/registry/registry-remote.test.ts):
// its own clone of the remote that KEYLEDGER_REGISTRY_REMOTE names, creating entries and updating shared ones.
// Args: <clone dir> <worker id> <count> <shared key_ids, comma-separated> <field to update>. Prints its RegistryRemote's
// stats as JSON on stdout.
import { defaultRegistryConfig } from '../registry-config.js';
import { RegistryRemote } from '../registry-remote.js';
import { registryRemoteSettings } from '../registry-remote-settings.js';
import { RegistryWriter } from '../registry-writer.js';

const [root, worker, count, shared, field] = process.argv.slice(2) as [string, string, string, string, string];
const config = defaultRegistryConfig();
const settings = await registryRemoteSettings({ env: process.env, root, cwd: root });
if (!settings) throw new Error('KEYLEDGER_REGISTRY_REMOTE is not set');
const remote = new RegistryRemote(settings, { root, maxAttempts: 40, backoffMs: 10 });
const writer = new RegistryWriter({ root, config, author: { name: `w${worker}`, email: 'w@example.com' }, remote });
for (let i = 0; i < Number(count); i++) {
  await writer.create({
    key_id: `w${worker}-${i}`,
    purpose: 'written by a replica of its own',
    owner_team: 'platform',
    owner_individual: 'p@example.com',
    created_at: '2026-11-23T10:00:00Z',
    expiration: '2027-05-22T10:00:00Z',
    scope: { provider: 'internal' },
    storage: { store: 'default', path: `w/${worker}/${i}` },
  });
  for (const keyId of shared.split(',').filter(Boolean)) {
    const value = `w${worker}-${i}`;
    await writer.update(keyId, field === 'rotation_owner' ? { audit: { rotation_owner: value } } : { [field]: value });
  }
}
process.stdout.write(`${JSON.stringify(remote.stats)}\n`);
