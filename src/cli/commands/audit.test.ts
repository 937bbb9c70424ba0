// `keyledger audit` as a user runs it each quarter: a registry with a people directory, a report in each format,
// tickets per class and team (not opened twice), the second audit comparing with the first, --fail-on for CI.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeRegistry, seedExampleWith } from '../../registry/test-support/registry-fixtures.js';
import { runCli } from '../test-support/run-cli.js';

const PEOPLE =
  'email,name,team,status,left_at\nalice@example.com,Alice,payments,active,\ncarol@example.com,Carol,payments,left,2026-06-30\n';

async function registry(): Promise<string> {
  return makeRegistry({
    'keyledger.config.yaml': 'policy:\n  people_directory: people.csv\n',
    'people.csv': PEOPLE,
    'keys/a.yaml': seedExampleWith('payments-a-001', [['last_audit: 2026-04-01', 'last_audit: 2026-11-01']]),
    'keys/b.yaml': seedExampleWith('payments-b-001', [
      ['owner_individual: alice@example.com', 'owner_individual: carol@example.com'],
      ['last_audit: 2026-04-01', 'last_audit: 2026-11-01'],
    ]),
  });
}

describe('keyledger audit', () => {
  it('reports, records, opens tickets once, and compares the next quarter with this one', async () => {
    const root = await registry();
    const env = { KEYLEDGER_DATA_DIR: join(root, '.keyledger') };
    const tickets = join(root, 'tickets');
    const first = await runCli(
      [
        'audit',
        '--registry',
        root,
        '--as-of',
        '2026-12-01',
        '--output',
        join(root, 'q4.html'),
        '--tickets',
        `markdown:${tickets}`,
      ],
      { cwd: root, env, now: '2026-12-01T00:00:00Z' },
    );
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/audit as of 2026-12-01: 1 findings in 1 teams/);
    expect(first.stdout).toMatch(/2 active keys, 0 without a clear owner, 1 of leavers, 0 with admin scope/);
    expect(first.stdout).toMatch(/tickets: 1 opened, 0 already open/);
    const html = await readFile(join(root, 'q4.html'), 'utf8');
    expect(html).toContain('carol@example.com left on 2026-06-30');
    const opened = await readdir(tickets);
    expect(opened).toHaveLength(1);
    expect(await readFile(join(tickets, opened[0]!), 'utf8')).toMatch(/payments: 1 owner-left[\s\S]*payments-b-001/);

    const again = await runCli(
      ['audit', '--registry', root, '--as-of', '2026-12-02', '--tickets', `markdown:${tickets}`, '--json'],
      {
        cwd: root,
        env,
      },
    );
    expect(JSON.parse(again.stdout).tickets).toMatchObject({ opened: [], alreadyOpen: 1 });

    // Next quarter: a's audit went stale and its rotation is overdue; b's owner still left.
    const next = await runCli(['audit', '--registry', root, '--as-of', '2027-04-15', '--format', 'markdown'], {
      cwd: root,
      env,
    });
    expect(next.code).toBe(0);
    expect(next.stdout).toMatch(/Compared with the audit of 2026-12-02: \d+ new findings, 0 resolved/);
    expect(next.stdout).toContain('| stale-entry | 2 |');
    expect(next.stdout).toContain('| expired | 2 |');
  });

  it('--fail-on exits 1 on findings of the named classes only, and refuses an unknown class', async () => {
    const root = await registry();
    const env = { KEYLEDGER_DATA_DIR: join(root, '.keyledger') };
    const args = ['audit', '--registry', root, '--as-of', '2026-12-01', '--no-record', '--format', 'csv'];
    expect((await runCli([...args, '--fail-on', 'owner-left'], { cwd: root, env })).code).toBe(1);
    expect((await runCli([...args, '--fail-on', 'broad-scope,expired'], { cwd: root, env })).code).toBe(0);
    const csv = await runCli([...args, '--fail-on', 'any'], { cwd: root, env });
    expect(csv.code).toBe(1);
    expect(csv.stdout.split('\n')[1]).toMatch(/^owner-left,payments-b-001,payments,carol@example.com,keys\/b.yaml,/);
    const bad = await runCli([...args, '--fail-on', 'owner-gone'], { cwd: root, env });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/unknown class owner-gone/);
  });
});
