// Bulk issuance on both database engines, against the real internal provider, embedded store and git registry:
// many keys from YAML and CSV in few commits; a bad row refused (file, line, field) before anything is minted; a
// failed batch commit rolls back exactly that batch's keys; a re-run with the same idempotency keys mints nothing.
import { chmod, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import type { OperationalStore } from '../db/operational-store.js';
import { forEachBackend } from '../db/test-support/test-databases.js';
import { ConfigError } from '../errors/keyledger-error.js';
import { runGit } from '../git/git-command.js';
import type { ProviderKey } from '../providers/provider.js';
import { analyzeEntryText } from '../registry/entry-analysis.js';
import { defaultRegistryConfig } from '../registry/registry-config.js';
import { GIT_TEST_ENV, seedExampleWith } from '../registry/test-support/registry-fixtures.js';
import { fingerprintMatches } from '../secrets/secret-fingerprint.js';
import { type BulkIssueOptions, type BulkIssueRequest, BulkKeyIssuer } from './bulk-key-issuance.js';
import { IdempotencyRecords } from './idempotency-records.js';
import { IssueRequestFileError, parseIssueRequestFile } from './issue-request-file.js';
import type { IssuedKey } from './key-issuance.js';
import { issuanceHarness } from './test-support/issuance-harness.js';

async function bulkHarness(
  operational: OperationalStore,
  batching: { lingerMs?: number; maxBatch?: number } = { lingerMs: 20 },
) {
  const h = await issuanceHarness(operational);
  const config = defaultRegistryConfig();
  const bulk = new BulkKeyIssuer({
    providers: (name) => {
      if (name !== 'internal') throw new ConfigError(`provider "${name}" is not configured`);
      return h.internal;
    },
    stores: (name) => {
      if (name !== 'default') throw new ConfigError(`secret store "${name}" is not configured`);
      return h.store;
    },
    writer: h.writer,
    events: h.events,
    idempotency: new IdempotencyRecords(operational.db, h.clock),
    fingerprintKey: h.fingerprintKey,
    policy: config.policy,
    clock: h.clock,
    root: h.root,
    gitEnv: GIT_TEST_ENV,
    batching: { commitSpacing: 0, ...batching },
  });
  const fromFile = (content: string, file: string, options: BulkIssueOptions = {}) =>
    bulk.issueMany(requestsOf(content, file), options);
  return { ...h, bulk, fromFile };
}

function requestsOf(content: string, file: string): BulkIssueRequest[] {
  return parseIssueRequestFile(content, file).map((row) => ({
    ...row.request,
    actor: 'test:bulk',
    source: { file, row: row.row, line: row.line, fieldLines: row.fieldLines },
  }));
}

async function activeKeys(keys: AsyncIterable<ProviderKey>): Promise<ProviderKey[]> {
  const found: ProviderKey[] = [];
  for await (const key of keys) if (key.status === 'active') found.push(key);
  return found;
}

async function entryFiles(root: string): Promise<string[]> {
  const entries = await readdir(join(root, 'keys'), { recursive: true, withFileTypes: true }).catch(() => []);
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => entry.name)
    .sort();
}

const git = (root: string, ...args: string[]) => runGit(args, { cwd: root, env: GIT_TEST_ENV });
const commitCount = async (root: string) => Number((await git(root, 'rev-list', '--count', 'HEAD')).trim());

function yamlRequests(count: number, extra: (index: number) => string = () => ''): string {
  const teams = ['payments', 'search', 'platform'];
  return Array.from(
    { length: count },
    (_, index) =>
      `- provider: internal\n  team: ${teams[index % teams.length]}\n  owner: owner${index}@example.com\n  purpose: Service ${index} calling the ledger\n  scope: [ledger:read]\n  expires: 90d\n  key-id: bulk-key-${index + 1}\n${extra(index)}`,
  ).join('');
}

function issuedKeys(results: Awaited<ReturnType<BulkKeyIssuer['issueMany']>>['results']): IssuedKey[] {
  return results.flatMap((result) => (result.status === 'issued' || result.status === 'replayed' ? [result.key] : []));
}

forEachBackend((backend) => {
  it('issues every key of a YAML file: minted, stored, registered in a few batch commits, logged', async () => {
    const h = await bulkHarness(await backend.open(), { lingerMs: 20, maxBatch: 5 });
    const before = await commitCount(h.root);
    const report = await h.fromFile(yamlRequests(12), 'keys.yaml', { concurrency: 4 });
    expect(report).toMatchObject({ total: 12, issued: 12, failed: 0, replayed: 0 });
    const commits = (await commitCount(h.root)) - before;
    expect(commits).toBe(report.commits);
    expect(commits).toBeGreaterThanOrEqual(3);
    expect(commits).toBeLessThan(12);
    expect((await git(h.root, 'log', '-1', '--format=%s')).trim()).toMatch(/^keyledger: issue \d+ key\(s\)$/);
    expect((await git(h.root, 'status', '--porcelain')).trim()).toBe('');
    const keys = issuedKeys(report.results);
    expect(keys.map((key) => key.keyId)).toEqual(Array.from({ length: 12 }, (_, index) => `bulk-key-${index + 1}`));
    const secrets: string[] = [];
    for (const key of keys) {
      const stored = await h.store.get(key.path);
      expect(await h.internal.verify(stored!.value)).toMatchObject({ valid: true, providerKeyId: key.providerKeyId });
      const text = await readFile(join(h.root, key.file), 'utf8');
      const entry = analyzeEntryText(key.file, text).entry!;
      expect(entry).toMatchObject({ key_id: key.keyId, provider_key_id: key.providerKeyId, status: 'active' });
      expect(fingerprintMatches(stored!.value, entry.fingerprint!, h.fingerprintKey)).toBe(true);
      expect(await git(h.root, 'cat-file', '-t', `${key.commit}:${key.file}`)).toContain('blob');
      secrets.push(stored!.value.reveal());
    }
    expect(new Set(keys.map((key) => key.file)).size).toBe(12);
    const events = await h.events.list({ type: 'issued' });
    expect(events.map((event) => event.keyId).sort()).toEqual(keys.map((key) => key.keyId).sort());
    // Canary: no secret in the report, the registry's history or the event log.
    const history = await git(h.root, 'log', '-p', '--all');
    const outputs = [JSON.stringify(report), history, JSON.stringify(await h.events.list({ limit: 1000 }))];
    for (const secret of secrets) for (const output of outputs) expect(output).not.toContain(secret);
  });

  it('issues every key of a CSV file, key ids generated where none is given', async () => {
    // A long linger: the batch is committed when the last key is in, not before (flushNow).
    const h = await bulkHarness(await backend.open(), { lingerMs: 60_000 });
    const csv = [
      'provider,team,owner,purpose,scope,expires,key_id,tag',
      'internal,payments,alice@example.com,"Webhook signing, EU","webhooks:write",30d,,"eu,webhooks"',
      'internal,search,bob@example.com,Index writer,"index:write,index:read",,search-index-writer-001,',
      'internal,platform,carol@example.com,Deploy bot,deploy:run,12w,,',
    ].join('\n');
    const report = await h.fromFile(csv, 'keys.csv');
    expect(report).toMatchObject({ total: 3, issued: 3, failed: 0 });
    const [first, second, third] = issuedKeys(report.results);
    expect(first!.keyId).toMatch(/^payments-internal-webhook-signing-eu-[0-9a-f]{4}$/);
    expect(second!.keyId).toBe('search-index-writer-001');
    expect(third!.file).toMatch(/^keys\/platform\/platform-internal-deploy-bot-[0-9a-f]{4}\.yaml$/);
    const entry = analyzeEntryText(first!.file, await readFile(join(h.root, first!.file), 'utf8')).entry!;
    expect(entry).toMatchObject({ tags: ['eu', 'webhooks'], scope: { permissions: ['webhooks:write'] } });
    expect(first!.expiresAt).toBe('2026-12-23T12:00:00Z');
    expect(await activeKeys(h.internal.list())).toHaveLength(3);
    expect(report.commits).toBe(1);
  });

  it('refuses a file with bad rows before minting anything, naming the file, line and field of each', async () => {
    const h = await bulkHarness(await backend.open());
    await h.bulk.issueMany([{ ...requestsOf(yamlRequests(1), 'seed.yaml')[0]!, keyId: 'already-there' }]);
    const yaml = `${yamlRequests(2)}- provider: internal
  team: payments
  owner: dave@example.com
  purpose: Too broad
  scope: ["*"]
- provider: nowhere
  team: payments
  owner: erin@example.com
  purpose: Unknown provider
- provider: internal
  team: payments
  owner: frank@example.com
  purpose: Taken id
  key-id: already-there
- provider: internal
  team: search
  owner: gina@example.com
  purpose: Same id twice
  key-id: bulk-key-1
- provider: internal
  team: search
  owner: hal@example.com
  purpose: Far too long
  expires: 5y
`;
    const before = { commits: await commitCount(h.root), events: (await h.events.list({})).length };
    const error = await h.fromFile(yaml, 'requests.yaml').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(IssueRequestFileError);
    expect(error).toMatchObject({ code: 'E_ISSUE_FILE_INVALID', category: 'input' });
    const problems = (error as IssueRequestFileError).problems.map(({ file, line, row, field }) => ({
      file,
      line,
      row,
      field,
    }));
    // Rows 1-2 (lines 1-14) are good; each later row opens with its provider line.
    expect(problems).toEqual([
      { file: 'requests.yaml', line: 19, row: 3, field: 'scope' },
      { file: 'requests.yaml', line: 20, row: 4, field: 'provider' },
      { file: 'requests.yaml', line: 24, row: 5, field: 'store' },
      { file: 'requests.yaml', line: 28, row: 5, field: 'key-id' },
      { file: 'requests.yaml', line: 33, row: 6, field: 'key-id' },
      { file: 'requests.yaml', line: 38, row: 7, field: 'expires' },
    ]);
    const message = (error as Error).message;
    expect(message).toContain('requests.yaml:19: scope: forbidden-permissions');
    expect(message).toContain('requests.yaml:20: provider: provider "nowhere" is not configured');
    expect(message).toContain(
      'requests.yaml:24: store: store "default" already holds a secret at "payments/already-there"',
    );
    expect(message).toContain('requests.yaml:28: key-id: key_id "already-there" already exists');
    expect(message).toContain('requests.yaml:33: key-id: "bulk-key-1" is requested by row 1 too');
    expect(message).toContain('requests.yaml:38: expires: max-lifetime');
    // Nothing minted, stored, registered or logged: only the seed key exists.
    expect(await activeKeys(h.internal.list())).toHaveLength(1);
    expect(await entryFiles(h.root)).toEqual(['already-there.yaml']);
    expect(await h.store.exists('payments/bulk-key-1')).toBe(false);
    expect(await commitCount(h.root)).toBe(before.commits);
    expect((await h.events.list({})).length).toBe(before.events);
  });

  it('a batch whose commit fails rolls back exactly its keys: no provider key, no secret, no entry', async () => {
    // One batch per two keys, made in order (one key minted at a time); git refuses the commit holding "doomed".
    const h = await bulkHarness(await backend.open(), { lingerMs: 10_000, maxBatch: 2 });
    const gitDir = (await git(h.root, 'rev-parse', '--absolute-git-dir')).trim();
    const hook = join(gitDir, 'hooks', 'reference-transaction');
    await writeFile(
      hook,
      '#!/bin/sh\n[ "$1" = prepared ] || exit 0\nwhile read old new ref; do\n  git log -1 --format=%B "$new" 2>/dev/null | grep -q doomed && { echo "refused by test hook" >&2; exit 1; }\ndone\nexit 0\n',
    );
    await chmod(hook, 0o755);
    const yaml = yamlRequests(6).replace('key-id: bulk-key-3', 'key-id: doomed-key-3');
    const before = await commitCount(h.root);
    const report = await h.fromFile(yaml, 'keys.yaml', { concurrency: 1 });
    expect(report).toMatchObject({ total: 6, issued: 4, failed: 2 });
    const failed = report.results.filter((result) => result.status === 'failed');
    expect(failed.map((result) => result.row)).toEqual([3, 4]);
    for (const result of failed) {
      expect(result).toMatchObject({ error: { code: 'E_ISSUE_FAILED', failedStep: 'register' } });
      if (result.status !== 'failed') continue;
      expect(result.error.message).toContain('refused by test hook');
      expect(result.error.rollback?.map((step) => [step.step, step.ok])).toEqual([
        ['secret-store', true],
        ['provider-key', true],
      ]);
    }
    const issued = issuedKeys(report.results);
    expect(issued.map((key) => key.keyId)).toEqual(['bulk-key-1', 'bulk-key-2', 'bulk-key-5', 'bulk-key-6']);
    expect((await activeKeys(h.internal.list())).map((key) => key.providerKeyId).sort()).toEqual(
      issued.map((key) => key.providerKeyId).sort(),
    );
    expect(await h.store.exists('search/bulk-key-2')).toBe(true);
    expect(await h.store.exists('platform/doomed-key-3')).toBe(false);
    expect(await h.store.exists('payments/bulk-key-4')).toBe(false);
    expect(await entryFiles(h.root)).toEqual([
      'bulk-key-1.yaml',
      'bulk-key-2.yaml',
      'bulk-key-5.yaml',
      'bulk-key-6.yaml',
    ]);
    expect((await git(h.root, 'status', '--porcelain')).trim()).toBe('');
    expect(await commitCount(h.root)).toBe(before + 2);
    const rolledBack = await h.events.list({ type: 'issue-rolled-back' });
    expect(rolledBack.map((event) => event.keyId).sort()).toEqual(['bulk-key-4', 'doomed-key-3']);
    expect((await h.events.list({ type: 'issued' })).map((event) => event.keyId).sort()).toEqual(
      issued.map((key) => key.keyId).sort(),
    );
  });

  it('a re-run with the same idempotency keys mints nothing new and returns the first results', async () => {
    const h = await bulkHarness(await backend.open());
    // Rows 1-3 derive their key from the run's (`nightly:<row>`); row 4 carries its own. No key ids: generated.
    const yaml = yamlRequests(4, (index) => (index === 3 ? '  idempotency-key: row-four\n' : '')).replace(
      /\n {2}key-id: bulk-key-\d+/g,
      '',
    );
    const first = await h.fromFile(yaml, 'keys.yaml', { idempotencyKey: 'nightly' });
    expect(first).toMatchObject({ issued: 4, replayed: 0, failed: 0 });
    const commits = await commitCount(h.root);
    const again = await h.fromFile(yaml, 'keys.yaml', { idempotencyKey: 'nightly' });
    expect(again).toMatchObject({ issued: 0, replayed: 4, failed: 0, commits: 0 });
    expect(issuedKeys(again.results)).toEqual(issuedKeys(first.results).map((key) => ({ ...key, replayed: true })));
    expect(await activeKeys(h.internal.list())).toHaveLength(4);
    expect(await commitCount(h.root)).toBe(commits);
    const dryRun = await h.fromFile(yaml, 'keys.yaml', { idempotencyKey: 'nightly', dryRun: true });
    expect(dryRun.results.every((result) => result.status === 'planned' && result.alreadyIssued)).toBe(true);
    expect(await h.operational.db.selectFrom('idempotency_records').select('idempotency_key').execute()).toEqual(
      expect.arrayContaining([{ idempotency_key: 'nightly:1' }, { idempotency_key: 'row-four' }]),
    );
    // The same keys for different requests are refused before anything is minted.
    const changed = yaml.replace('Service 0 calling', 'Service zero calling');
    await expect(h.fromFile(changed, 'keys.yaml', { idempotencyKey: 'nightly' })).rejects.toMatchObject({
      code: 'E_ISSUE_FILE_INVALID',
      message: /keys\.yaml:4: idempotency-key: "nightly:1" was already used for a different request/,
    });
    expect(await activeKeys(h.internal.list())).toHaveLength(4);
  });

  it('a re-run after a run killed before its batch commit undoes what that run left, then issues once', async () => {
    const h = await bulkHarness(await backend.open());
    const yaml = yamlRequests(1);
    const {
      actor: _actor,
      source: _source,
      ...material
    } = { ...requestsOf(yaml, 'keys.yaml')[0]!, idempotencyKey: 'run:1' };
    // The killed run: it claimed `run:1`, minted, stored, placed its entry, and died before the batch commit.
    const idempotency = new IdempotencyRecords(h.operational.db, h.clock);
    await idempotency.claim('run:1', 'issue', IdempotencyRecords.hashRequest(material));
    const orphan = await h.internal.create({ name: 'bulk-key-1' });
    await h.store.put('payments/bulk-key-1', orphan.secret, { stage: 'current' });
    await idempotency.progress('run:1', {
      keyId: 'bulk-key-1',
      provider: 'internal',
      providerKeyId: orphan.providerKeyId,
      stored: { name: 'default', path: 'payments/bulk-key-1' },
    });
    await mkdir(join(h.root, 'keys', 'payments'), { recursive: true });
    await writeFile(join(h.root, 'keys', 'payments', 'bulk-key-1.yaml'), seedExampleWith('bulk-key-1'));
    h.clock.advance(10 * 60_000);
    const report = await h.fromFile(yaml, 'keys.yaml', { idempotencyKey: 'run' });
    expect(report).toMatchObject({ issued: 1, failed: 0 });
    const [issued] = issuedKeys(report.results);
    expect((await activeKeys(h.internal.list())).map((key) => key.providerKeyId)).toEqual([issued!.providerKeyId]);
    expect(issued!.providerKeyId).not.toBe(orphan.providerKeyId);
    expect((await git(h.root, 'status', '--porcelain')).trim()).toBe('');
    const entry = analyzeEntryText(issued!.file, await readFile(join(h.root, issued!.file), 'utf8')).entry!;
    expect(entry.provider_key_id).toBe(issued!.providerKeyId);
  });

  it('a dry run checks every row and mints nothing', async () => {
    const h = await bulkHarness(await backend.open());
    const report = await h.fromFile(yamlRequests(3), 'keys.yaml', { dryRun: true });
    expect(report).toMatchObject({ dryRun: true, planned: 3, issued: 0, commits: 0 });
    expect(report.results[1]).toEqual({
      row: 2,
      status: 'planned',
      keyId: 'bulk-key-2',
      provider: 'internal',
      store: 'default',
      path: 'search/bulk-key-2',
      file: 'keys/search/bulk-key-2.yaml',
      expiresAt: '2027-02-21T12:00:00Z',
    });
    expect(await activeKeys(h.internal.list())).toEqual([]);
    expect(await entryFiles(h.root)).toEqual([]);
  });
});
