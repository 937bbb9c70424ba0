// The scanner's loop closed end to end: a key issued through keyledger leaks into a file; `scan --registry
// --remediate` attributes it to its entry, records the finding and plans the key's rotation — and the secret
// appears in no output, event or journal row.
import { randomBytes } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { openOperationalStore } from '../../db/operational-store.js';
import { GIT_TEST_ENV, makeRegistry } from '../../registry/test-support/registry-fixtures.js';
import { createSecretStore } from '../../secrets/secret-store-table.js';
import { runCli } from '../test-support/run-cli.js';

it('scan --remediate records the finding and plans a leak rotation of the key it belongs to', async () => {
  const registry = await makeRegistry({ '.gitignore': '.keyledger/\n', 'keyledger.config.yaml': '' }, { git: true });
  const dataDir = join(registry, '.keyledger');
  const env: NodeJS.ProcessEnv = {
    ...GIT_TEST_ENV,
    KEYLEDGER_DATA_DIR: dataDir,
    KEYLEDGER_MASTER_KEY: randomBytes(32).toString('base64'),
    KEYLEDGER_DATABASE_URL: '',
    KEYLEDGER_FINGERPRINT_KEY: '',
  };
  const issued = await runCli(
    [
      'issue',
      '--provider',
      'internal',
      '--team',
      'payments',
      '--owner',
      'alice@example.com',
      '--purpose',
      'Billing',
      '--key-id',
      'payments-billing',
      '--json',
    ],
    { cwd: registry, env },
  );
  expect(issued.code, issued.stderr).toBe(0);
  const operational = await openOperationalStore({ dataDir });
  const store = createSecretStore('embedded', {}, { env, cwd: registry, operationalDb: operational.db });
  const secret = (await store.get('payments/payments-billing'))!.value.reveal();
  await operational.close();

  const leaked = await mkdtemp(join(tmpdir(), 'keyledger-leak-'));
  await writeFile(join(leaked, 'config.env'), `BILLING_API_KEY=${secret}\n`);
  const scan = await runCli(['scan', 'dir', leaked, '--registry', registry, '--remediate', '--json'], {
    cwd: registry,
    env,
  });
  expect(scan.code, scan.stderr).toBe(1);
  expect(scan.stderr).toMatch(
    /remediate: payments-billing: 1 finding\(s\) recorded; rotation \S+ planned \(trigger leak/,
  );

  const check = await openOperationalStore({ dataDir });
  const events = await check.db
    .selectFrom('events')
    .selectAll()
    .where('key_id', '=', 'payments-billing')
    .orderBy('seq')
    .execute();
  expect(events.map((event) => event.type)).toEqual(expect.arrayContaining(['issued', 'finding']));
  const finding = events.find((event) => event.type === 'finding')!;
  expect(JSON.parse(finding.data)).toMatchObject({ file: expect.stringMatching(/config\.env$/), line: 1 });
  const journal = await check.db
    .selectFrom('rotation_journal')
    .selectAll()
    .where('key_id', '=', 'payments-billing')
    .execute();
  expect(journal).toHaveLength(1);
  expect(journal[0]).toMatchObject({ trigger: 'leak' });
  for (const text of [JSON.stringify(events), JSON.stringify(journal), scan.stderr]) expect(text).not.toContain(secret);
  await check.close();

  // Scanning again does not plan a second rotation of the same key.
  const again = await runCli(['scan', 'dir', leaked, '--registry', registry, '--remediate'], { cwd: registry, env });
  expect(again.stderr).toMatch(/already under way/);
}, 60_000);
