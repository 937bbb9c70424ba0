// A separate process that creates entries in a registry: used to test that writers in different processes are
// serialised and that a writer killed mid-way leaves whole files. Args: <root> <worker id> <count>.
import { defaultRegistryConfig } from '../registry-config.js';
import { RegistryWriter } from '../registry-writer.js';

const [root, worker, count] = process.argv.slice(2);
const writer = new RegistryWriter({
  root: root!,
  config: defaultRegistryConfig(),
  author: { name: 'p', email: 'p@example.com' },
});
for (let i = 0; i < Number(count); i++) {
  await writer.create({
    key_id: `proc-${worker}-${i}`,
    purpose: 'written by a separate process',
    owner_team: 'platform',
    owner_individual: 'p@example.com',
    created_at: '2026-11-23T10:00:00Z',
    expiration: '2027-05-22T10:00:00Z',
    scope: { provider: 'internal' },
    storage: { store: 'default', path: `p/${worker}/${i}` },
  });
}
