// The composition root wraps every secret store it hands out, configured or passed in, so any write of a GitHub
// token (issue, rotate, store) leaves its digest in token_digests (src/audit/token-digests.ts) and nothing for other
// providers. Both engines.
import { createHash, randomBytes } from 'node:crypto';
import { expect, it } from 'vitest';
import { TokenDigestStore } from '../audit/token-digests.js';
import { forEachBackend } from '../db/test-support/test-databases.js';
import { GIT_TEST_ENV, makeRegistry } from '../registry/test-support/registry-fixtures.js';
import { fixedClock } from '../runtime/clock.js';
import { SecretValue } from '../secrets/secret-value.js';
import { openKeyledgerApp } from './keyledger-app.js';

forEachBackend((backend) => {
  it("records the digest of each GitHub token written through the app's secret stores", async () => {
    const database = await backend.createDatabase();
    const registry = await makeRegistry({ '.gitignore': '.keyledger/\n', 'keys/.gitkeep': '' }, { git: true });
    const app = await openKeyledgerApp({
      registryDir: registry,
      env: {
        ...process.env,
        ...GIT_TEST_ENV,
        KEYLEDGER_DATA_DIR: database.options.dataDir,
        KEYLEDGER_DATABASE_URL: database.options.databaseUrl ?? '',
        KEYLEDGER_MASTER_KEY: randomBytes(32).toString('base64'),
      },
      cwd: registry,
      clock: fixedClock('2026-11-01T00:00:00.000Z'),
    });
    try {
      const token = `ghp_CANARY${randomBytes(15).toString('hex')}`;
      const store = app.secretStore('default');
      await store.put('github/ci', new SecretValue(token), {
        stage: 'current',
        metadata: { key_id: 'platform-gh-001', provider: 'github', provider_key_id: '77' },
      });
      await store.put('aws/ci', new SecretValue(`CANARY${randomBytes(16).toString('hex')}`), {
        stage: 'current',
        metadata: { key_id: 'platform-aws-001', provider: 'aws-iam', provider_key_id: 'AKIAEXAMPLE000000077' },
      });
      // The wrapped store still is the store: the token reads back.
      expect((await store.get('github/ci'))?.value.reveal()).toBe(token);
      const rows = await new TokenDigestStore(app.operational.db).all();
      expect(rows).toEqual([
        {
          digest: createHash('sha256').update(token).digest('base64'),
          provider: 'github',
          key_id: 'platform-gh-001',
          provider_key_id: '77',
          recorded_at: '2026-11-01T00:00:00.000Z',
        },
      ]);
      expect(JSON.stringify(rows)).not.toContain(token);
    } finally {
      await app.close();
    }
  });
});
