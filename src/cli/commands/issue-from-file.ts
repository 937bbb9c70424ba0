// `keyledger issue --from FILE`: bulk issuance of the requests in a YAML or CSV file (`-` for stdin) through
// src/lifecycle/bulk-key-issuance.ts. Every row is checked before anything is minted; the secrets are never printed.
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { KeyledgerApp } from '../../app/keyledger-app.js';
import { UsageError } from '../../errors/keyledger-error.js';
import { type BulkIssueReport, type BulkIssueRequest, BulkKeyIssuer } from '../../lifecycle/bulk-key-issuance.js';
import { IdempotencyRecords } from '../../lifecycle/idempotency-records.js';
import { parseIssueRequestFile } from '../../lifecycle/issue-request-file.js';
import { type CliContext, printJson } from '../cli-context.js';
import { EXIT_ERROR } from '../exit-codes.js';

export interface IssueFromFileOptions {
  from: string;
  actor: string;
  json?: boolean;
  dryRun?: boolean;
  concurrency?: number;
  /** Rows without their own `idempotency-key` get `<this>:<row>`. */
  idempotencyKey?: string;
}

/** The single `issue` flags that describe one key: with --from they belong in the file's rows. */
const SINGLE_KEY_FLAGS = [
  ['provider', '--provider'],
  ['team', '--team'],
  ['owner', '--owner'],
  ['purpose', '--purpose'],
  ['scope', '--scope'],
  ['account', '--account'],
  ['expires', '--expires'],
  ['store', '--store'],
  ['keyId', '--key-id'],
  ['rotateEvery', '--rotate-every'],
  ['consumer', '--consumer'],
  ['tag', '--tag'],
  ['justification', '--justification'],
  ['reveal', '--reveal'],
] as const;

/** Progress lines go to stderr at most this often, and only for runs long enough to want them. */
const PROGRESS_EVERY_MS = 2_000;

export async function issueFromFile(
  context: CliContext,
  openApp: () => Promise<KeyledgerApp>,
  options: IssueFromFileOptions,
): Promise<void> {
  const perKey = SINGLE_KEY_FLAGS.filter(([field]) => {
    const value = (options as unknown as Record<string, unknown>)[field];
    return value !== undefined && value !== false && !(Array.isArray(value) && value.length === 0);
  });
  if (perKey.length) {
    throw new UsageError(
      `--from reads each key's fields from the file; drop ${perKey.map(([, flag]) => flag).join(', ')} (or put them in the file's rows)`,
    );
  }
  const { name, content } = await readRequests(context, options.from);
  const rows = parseIssueRequestFile(content, name);
  const requests: BulkIssueRequest[] = rows.map((row) => ({
    ...row.request,
    actor: options.actor,
    source: { file: name, row: row.row, line: row.line, fieldLines: row.fieldLines },
  }));
  const app = await openApp();
  try {
    const issuer = new BulkKeyIssuer({
      providers: app.provider,
      stores: app.secretStore,
      writer: app.writer,
      events: app.events,
      idempotency: new IdempotencyRecords(app.operational.db, context.clock),
      fingerprintKey: app.fingerprintKey,
      policy: app.workspace.config.policy,
      people: app.people,
      clock: context.clock,
      ...(context.logger ? { logger: context.logger } : {}),
      root: app.workspace.root,
      gitEnv: context.env,
      author: { name: app.workspace.config.git.author_name, email: app.workspace.config.git.author_email },
    });
    let lastProgress = performance.now();
    const report = await issuer.issueMany(requests, {
      ...(options.dryRun ? { dryRun: true } : {}),
      ...(options.concurrency ? { concurrency: options.concurrency } : {}),
      ...(options.idempotencyKey ? { idempotencyKey: options.idempotencyKey } : {}),
      onProgress: (progress) => {
        if (performance.now() - lastProgress < PROGRESS_EVERY_MS) return;
        lastProgress = performance.now();
        context.stderr.write(
          `issue --from ${name}: ${progress.issued + progress.replayed + progress.failed}/${progress.total} (${progress.failed} failed)\n`,
        );
      },
    });
    if (report.failed > 0) context.exitCode = EXIT_ERROR;
    if (options.json) printJson(context, report);
    else printReport(context, name, report);
  } finally {
    await app.close();
  }
}

async function readRequests(context: CliContext, from: string): Promise<{ name: string; content: string }> {
  if (from === '-') {
    if (!context.stdin) throw new UsageError('--from -: there is no standard input to read');
    let content = '';
    for await (const chunk of context.stdin) content += typeof chunk === 'string' ? chunk : chunk.toString('utf8');
    return { name: '<stdin>', content };
  }
  try {
    return { name: from, content: await readFile(resolve(context.cwd, from), 'utf8') };
  } catch (error) {
    throw new UsageError(`--from ${from}: cannot read the file: ${(error as NodeJS.ErrnoException).code ?? error}`);
  }
}

function printReport(context: CliContext, name: string, report: BulkIssueReport): void {
  const out = (line: string) => context.stdout.write(`${line}\n`);
  if (report.dryRun) {
    out(`Dry run: ${report.planned} key(s) from ${name} would be issued; nothing was minted.`);
    for (const result of report.results) {
      if (result.status !== 'planned') continue;
      if (result.alreadyIssued) out(`  row ${result.row}  already issued (same idempotency key)`);
      else
        out(`  row ${result.row}  ${result.keyId}  ${result.provider}  ${result.store}:${result.path}  ${result.file}`);
    }
    return;
  }
  out(
    `Issued ${report.issued} key(s) from ${name} in ${report.commits} registry commit(s)` +
      `${report.replayed ? `; ${report.replayed} already issued (same idempotency key)` : ''}` +
      `${report.failed ? `; ${report.failed} FAILED and rolled back` : ''} (${report.seconds.toFixed(1)} s).`,
  );
  for (const result of report.results) {
    if (result.status === 'failed')
      out(`  row ${result.row}  ${result.keyId}  ${result.error.code}: ${result.error.message}`);
  }
  if (report.results.length <= 50) {
    for (const result of report.results) {
      if (result.status === 'issued' || result.status === 'replayed')
        out(
          `  row ${result.row}  ${result.key.keyId}  ${result.key.provider} (key ${result.key.providerKeyId})  ${result.key.store}:${result.key.path}`,
        );
    }
  }
}
