// Every test run gets its own temporary directory, removed when the run ends: the suite creates hundreds of
// scratch registries, git repositories and data directories through os.tmpdir(), and they used to stay behind.
// Test workers and the processes they start inherit TMPDIR.
// The run also names its migrated PostgreSQL template (src/db/test-support/postgres-template.ts), built by the first
// test that needs one and dropped here.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  dropMigratedTemplate,
  newTemplateName,
  TEST_POSTGRES_TEMPLATE_VARIABLE,
} from './src/db/test-support/postgres-template.js';
import { testPostgresAdminUrl } from './src/db/test-support/test-postgres-server.js';

export default function setup(): () => Promise<void> {
  const directory = mkdtempSync(join(tmpdir(), 'keyledger-tests-'));
  const previous = process.env.TMPDIR;
  process.env.TMPDIR = directory;
  const template = newTemplateName(process.pid, randomBytes(5).toString('hex'));
  process.env[TEST_POSTGRES_TEMPLATE_VARIABLE] = template;
  return async () => {
    if (previous === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = previous;
    delete process.env[TEST_POSTGRES_TEMPLATE_VARIABLE];
    try {
      await dropMigratedTemplate(testPostgresAdminUrl(), template, directory);
    } finally {
      if (process.env.KEYLEDGER_KEEP_TEST_FILES) process.stderr.write(`test files kept in ${directory}\n`);
      else rmSync(directory, { recursive: true, force: true });
    }
  };
}
