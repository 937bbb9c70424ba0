// `keyledger audit-log ingest` and `keyledger usage` as a user runs them: a registry with an AWS key that declares
// where it runs, a CloudTrail file with a use from elsewhere and a key nobody registered, then the key's usage.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { makeRegistry, seedExampleWith } from '../../registry/test-support/registry-fixtures.js';
import { runCli } from '../test-support/run-cli.js';

const ENTRY = `${seedExampleWith('payments-aws-001', [
  ['provider: stripe', 'provider: aws-iam'],
  ['account_id: acct_xxx', 'account_id: svc-payments'],
])}provider_key_id: AKIAPAYMENTS00000001\nexpected_sources: ["10.0.0.0/8"]\n`;

const record = (at: string, key: string, ip: string) =>
  JSON.stringify({
    eventVersion: '1.08',
    eventSource: 's3.amazonaws.com',
    eventName: 'GetObject',
    eventTime: at,
    sourceIPAddress: ip,
    userIdentity: { type: 'IAMUser', accessKeyId: key, arn: 'arn:aws:iam::1:user/svc-payments' },
  });

describe('keyledger audit-log', () => {
  it('ingests a gzip trail, reports anomalies, and shows a key’s usage', async () => {
    const root = await makeRegistry({ 'keys/payments-aws.yaml': ENTRY });
    const trail = `{"Records":[${[
      record('2026-11-20T10:00:00Z', 'AKIAPAYMENTS00000001', '10.1.2.3'),
      record('2026-11-20T11:00:00Z', 'AKIAPAYMENTS00000001', '10.1.2.3'),
      record('2026-11-21T09:00:00Z', 'AKIAPAYMENTS00000001', '203.0.113.9'),
      record('2026-11-21T09:05:00Z', 'AKIAUNKNOWN000000001', '198.51.100.1'),
    ].join(',')}]}`;
    const file = join(root, '111122223333_CloudTrail_us-east-1_20261121T0910Z_abc.json.gz');
    await writeFile(file, gzipSync(trail));
    const env = { KEYLEDGER_DATA_DIR: join(root, '.keyledger') };

    const run = await runCli(['audit-log', 'ingest', file, '--registry', root, '--fail-on-anomaly'], {
      cwd: root,
      env,
    });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/4 records from 1 source\(s\)/);
    expect(run.stdout).toMatch(/3 by registered keys \(1 keys\), 1 by keys without an entry/);
    expect(run.stdout).toMatch(/unexpected-source 1/);
    expect(run.stdout).toMatch(/unregistered-key 1/);

    // The same file again (named twice): already counted, so nothing is read or added.
    const repeat = await runCli(['audit-log', 'ingest', file, file, '--registry', root, '--json'], { cwd: root, env });
    expect(repeat.code).toBe(0);
    expect(JSON.parse(repeat.stdout)).toEqual({ records: 0, sources: 0, skipped: { counted: [file], changed: [] } });
    const told = await runCli(['audit-log', 'ingest', file, '--registry', root], { cwd: root, env });
    expect(told.stdout).toBe('nothing new to ingest\n');
    expect(told.stderr).toMatch(/skipped 1 already ingested file\(s\).*--again/);

    // --again reads it once more, on purpose: its records count a second time, its anomalies are not new.
    const again = await runCli(
      ['audit-log', 'ingest', file, '--again', '--registry', root, '--fail-on-anomaly', '--json'],
      { cwd: root, env },
    );
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ records: 4, newAnomalies: [], skipped: { counted: [] } });

    const usage = await runCli(['usage', 'payments-aws-001', '--registry', root, '--json'], { cwd: root, env });
    expect(usage.code).toBe(0);
    const shown = JSON.parse(usage.stdout);
    expect(shown).toMatchObject({ key_id: 'payments-aws-001', total: 6, last_use: '2026-11-21T09:00:00.000Z' });
    expect(shown.anomalies.map((row: { kind: string }) => row.kind)).toEqual(['unexpected-source']);

    const table = await runCli(['usage', 'payments-aws-001', '--registry', root], { cwd: root, env });
    expect(table.stdout).toMatch(/6 uses since/);
    expect(table.stdout).toMatch(/anomaly {2}unexpected-source/);

    // Per team: the key's two ingests of three uses, credited to payments (its declared source, or as consumer).
    const byTeam = await runCli(['usage', '--by-team', '--days', '3650', '--registry', root, '--json'], {
      cwd: root,
      env,
    });
    expect(byTeam.code).toBe(0);
    const teams = JSON.parse(byTeam.stdout);
    expect(teams.teams.map((team: { team: string; uses: number }) => [team.team, team.uses])).toEqual([
      ['payments', 6],
    ]);
    expect(teams).toMatchObject({ unattributed: [], unregisteredUses: 2 });
    const teamTable = await runCli(['usage', '--by-team', '--days', '3650', '--registry', root], { cwd: root, env });
    expect(teamTable.stdout).toMatch(/payments\s+6\s+1/);
    const both = await runCli(['usage', 'payments-aws-001', '--by-team', '--registry', root, '--json'], {
      cwd: root,
      env,
    });
    expect(both.code).toBe(2);
    expect(JSON.parse(both.stdout).error.message).toMatch(/takes no key_id/);
  });

  it('fails before reading on a missing path, an unknown format or a mapping without json-lines', async () => {
    const root = await makeRegistry({ 'keys/payments-aws.yaml': ENTRY });
    const env = { KEYLEDGER_DATA_DIR: join(root, '.keyledger') };
    const missing = await runCli(['audit-log', 'ingest', 'nope.json', '--registry', root], { cwd: root, env });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/audit log .*nope\.json does not exist/);
    const format = await runCli(['audit-log', 'ingest', root, '--format', 'splunk'], { cwd: root, env });
    expect(format.code).toBe(2);
    expect(format.stderr).toMatch(/unknown --format "splunk"/);
    const mapping = await runCli(['audit-log', 'ingest', root, '--mapping', 'm.yaml'], { cwd: root, env });
    expect(mapping.code).toBe(2);
    expect(mapping.stderr).toMatch(/--mapping goes with --format json-lines/);
  });

  it('lists the formats', async () => {
    const run = await runCli(['audit-log', 'formats', '--json'], { cwd: '/' });
    expect(JSON.parse(run.stdout).map((row: { format: string }) => row.format)).toEqual([
      'cloudtrail',
      'github',
      'gcp',
      'entra',
      'datadog',
      'openai',
      'gitlab',
      'cloudflare',
      'twilio',
      'sendgrid',
      'slack',
      'json-lines',
    ]);
  });
});
