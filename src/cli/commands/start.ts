// `keyledger start` (what `npm start` runs): a working organisation on the embedded default. It starts the provider
// sandboxes loaded with a generated organisation (a 110-person company by default, src/sandbox/org/), a Vault sandbox
// holding every registered key's secret, a consumer that uses the keys and answers rotations' probes, and writes
// the organisation's registry (a git repository) with a config naming that Vault and a Markdown tickets folder;
// its local state (operational store, master and fingerprint keys, sandbox credentials, Vault token) goes in the
// registry's data folder `<registry>/.keyledger/`. It validates the registry, starts the server (the API and the
// modules src/app/server-modules.ts lists) with a first admin credential and the rotation controller
// (start-server.ts), prints what runs where and the one `export` another terminal needs, then keeps everything up
// until Ctrl-C (src/sandbox/working-org.ts).
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { FINGERPRINT_KEY_FILE_NAME, openKeyledgerApp } from '../../app/keyledger-app.js';
import { UsageError } from '../../errors/keyledger-error.js';
import type { DueKey } from '../../lifecycle/rotation/rotation-due.js';
import { validateRegistry } from '../../registry/registry-validator.js';
import type { Clock } from '../../runtime/clock.js';
import type { OrgKey } from '../../sandbox/org/org-model.js';
import { writeOrgRotationHistory } from '../../sandbox/org/org-rotation-history.js';
import { leakableKey, startWorkingOrg, type WorkingOrg } from '../../sandbox/working-org.js';
import { loadFingerprintKey } from '../../secrets/secret-fingerprint.js';
import { loadServerConfig } from '../../server/server-config.js';
import { createLogger, type Logger } from '../../telemetry/logger.js';
import { type CliContext, palette, printJson } from '../cli-context.js';
import type { RegisterCommand } from '../command-table.js';
import { parseNonNegativeInt } from '../option-parsers.js';
import { renderTable } from '../render/table.js';
import { type StartedServer, startServerAndController } from './start-server.js';

interface StartOptions {
  org: string;
  seed: number;
  portBase?: number;
  dir?: string;
  rateLimits: string;
  once?: boolean;
  json?: boolean;
  host?: string;
  serverPort?: number;
  schedule: string;
}

export interface OpenOrganisationOptions {
  org: 'small' | 'default' | '100k';
  seed: number;
  /** The sandbox folder (default `./.keyledger/sandbox`); its `registry/` is the organisation's registry. */
  dir: string;
  portBase?: number;
  rateLimits?: 'documented' | 'off';
  env: NodeJS.ProcessEnv;
  cwd: string;
  clock: Clock;
  logger?: Logger;
  /** The consumer's pace (tests use the keys more often than a person's demo needs). */
  consumer?: { refreshMs?: number; callMs?: number };
}

/** What `start` set up, and what another terminal needs to reach it. */
export interface OpenedOrganisation {
  working: WorkingOrg;
  /** The environment every command needs, as `export NAME=value ...` sets it. */
  exports: Record<string, string>;
  where: Record<string, unknown> & {
    keys: { registered: number; rotatable: number; manual: number };
    validation: { errors: number; warnings: number; byRule: Record<string, number>; files: number };
  };
  /** Keys the banner's examples name: one due and rotatable, one unused for long, one leaked, a leaver. */
  examples: {
    dueKey?: string;
    unusedKey?: string;
    leakedFile: string;
    leaver?: string;
    activePerson?: string;
    /** The sandboxes' audit logs as they stood at start, one file per provider, for `audit-log ingest`. */
    auditLogs: string;
    /** Where the banner's `audit --output` writes the quarterly report. */
    auditReport: string;
  };
  due: DueKey[];
}

/** Sets up the organisation as `keyledger start` does and leaves it running (the caller stops `working`). */
export async function openOrganisation(options: OpenOrganisationOptions): Promise<OpenedOrganisation> {
  const working = await startWorkingOrg({
    dir: options.dir,
    org: options.org,
    seed: options.seed,
    clock: options.clock,
    rateLimits: options.rateLimits ?? 'documented',
    ...(options.portBase ? { portBase: options.portBase } : {}),
    ...(options.consumer ? { consumer: options.consumer } : {}),
    // The same fingerprint key the commands will use: entries carry fingerprints, so scans attribute leaks.
    fingerprintKey: (dataDir) =>
      loadFingerprintKey({ env: options.env, keyFile: join(dataDir, FINGERPRINT_KEY_FILE_NAME) }),
  });
  try {
    const exports = {
      KEYLEDGER_REGISTRY: working.registryDir,
      // Until the data folder is found from the registry root (and providers.json in it), these say so.
      KEYLEDGER_DATA_DIR: working.dataDir,
      KEYLEDGER_PROVIDERS_FILE: working.providersFile,
    };
    const env = { ...options.env, ...exports };
    const app = await openKeyledgerApp({
      registryDir: working.registryDir,
      env,
      cwd: options.cwd,
      clock: options.clock,
      ...(options.logger ? { logger: options.logger } : {}),
    });
    let due: DueKey[];
    let report: Awaited<ReturnType<typeof validateRegistry>>;
    try {
      // The rotations keyledger made in the organisation's past, in its journal: the sandboxes' audit logs name the
      // keys they replaced, which `audit-log ingest` then tells apart as rotated-out (src/sandbox/org/org-rotation-history.ts).
      await writeOrgRotationHistory(app.operational.db, working.sandbox.org!);
      report = await validateRegistry({
        root: app.workspace.root,
        config: app.workspace.config,
        now: options.clock(),
        ...(app.workspace.people ? { people: app.workspace.people } : {}),
      });
      due = await app.rotation().controller.findDue();
    } finally {
      await app.close();
    }
    const byRule: Record<string, number> = {};
    for (const issue of report.issues) byRule[issue.rule] = (byRule[issue.rule] ?? 0) + 1;
    const org = working.sandbox.org!;
    const rotatable = new Set(working.rotatable.map((key) => key.keyId));
    const dueIds = new Set(due.map((key) => key.keyId));
    const dueKey = due.find((key) => rotatable.has(key.keyId))?.keyId;
    const unused = working.rotatable.find((key) => key.unusedDays === null && !dueIds.has(key.keyId));
    // A leak to find: one key's secret in an env file, as it would be committed by mistake.
    // (not due, so that `rotate --due` run first does not change what the scan attributes it to)
    const leaked = leakableKey(working.rotatable, new Set([...dueIds, ...(unused ? [unused.keyId] : [])]));
    const leakedFile = join(working.dir, 'leaked', 'app.env');
    if (leaked) await writeLeak(leakedFile, leaked);
    // What each provider's audit log held at start (CloudTrail, GitHub, GCP, Datadog...), in its own format: what a
    // deployment would export for `audit-log ingest` (src/sandbox/start-sandbox.ts writeAuditLogs).
    const auditLogs = join(working.dir, 'audit-logs');
    await working.sandbox.writeAuditLogs(auditLogs);
    const where = {
      organisation: org.summary,
      dir: working.dir,
      registry: working.registryDir,
      dataDir: working.dataDir,
      people: working.written.peopleFile,
      groundTruth: working.written.groundTruthFile,
      providersFile: working.providersFile,
      operationalStore: app.operational.location,
      secretStore: { vault: working.vault.url, tokenFile: working.vaultTokenFile },
      consumer: working.consumer.url,
      tickets: working.ticketsDir,
      sandbox: working.sandbox.urls,
      keys: { registered: working.written.entries, rotatable: working.rotatable.length, manual: working.manual.length },
      due: due.length,
      validation: { errors: report.errors, warnings: report.warnings, byRule, files: report.filesTotal },
    };
    // A leaver whom registry entries still name as owner: `list --owner` then shows what offboarding is for.
    const leaversOwning = new Set(
      org.keys.filter((key) => key.registered && key.ownerLeft).map((key) => key.registryOwnerIndividual),
    );
    const leaver = (
      org.people.find((person) => person.status === 'left' && leaversOwning.has(person.email)) ??
      org.people.find((person) => person.status === 'left')
    )?.email;
    const activePerson = org.people.find((person) => person.status === 'active');
    return {
      working,
      exports,
      where,
      due,
      examples: {
        ...(dueKey ? { dueKey } : {}),
        ...(unused ? { unusedKey: unused.keyId } : {}),
        leakedFile,
        auditLogs,
        auditReport: join(working.dir, 'audit.html'),
        ...(leaver ? { leaver } : {}),
        ...(activePerson ? { activePerson: activePerson.email } : {}),
      },
    };
  } catch (error) {
    await working.stop();
    throw error;
  }
}

/** The commands the banner suggests, each runnable as printed once the `export` line is run. */
export function tryCommands(opened: OpenedOrganisation): string[] {
  const r = '--registry "$KEYLEDGER_REGISTRY"';
  const { examples } = opened;
  const lines = [
    'npx keyledger validate "$KEYLEDGER_REGISTRY"',
    `npx keyledger list ${r} --owner ${examples.leaver ?? '<email>'}`,
    `npx keyledger issue ${r} --provider internal --team payments --owner ${examples.activePerson ?? '<email>'} --purpose demo`,
  ];
  if (examples.dueKey) {
    lines.push(`npx keyledger show ${r} ${examples.dueKey}`);
    lines.push(`npx keyledger rotate ${r} ${examples.dueKey}`);
  }
  lines.push(`npx keyledger rotate ${r} --due --dry-run`);
  lines.push(`npx keyledger rotate ${r} --due`);
  if (examples.unusedKey) lines.push(`npx keyledger revoke ${r} ${examples.unusedKey} --reason "never used"`);
  lines.push(`npx keyledger scan dir ${examples.leakedFile} ${r}`);
  lines.push(examples.dueKey ? `npx keyledger events --key ${examples.dueKey}` : 'npx keyledger events');
  // The audit (docs/audit.md): who used which key, what the providers hold, then the quarterly report.
  lines.push(`npx keyledger audit-log ingest ${examples.auditLogs} ${r}`);
  lines.push(`npx keyledger discover ${r}`);
  lines.push(`npx keyledger audit ${r} --output ${examples.auditReport}`);
  return lines;
}

export function exportLine(exports: Record<string, string>): string {
  return `export ${Object.entries(exports)
    .map(([name, value]) => `${name}=${shellQuote(value)}`)
    .join(' ')}`;
}

export const registerStartCommand: RegisterCommand = (program, context) => {
  program
    .command('start')
    .description('start a working sandbox organisation and keep it running (what `npm start` does)')
    .option('--org <profile>', 'organisation: small, default (110 people, ~1,200 keys) or 100k', 'default')
    .option('--seed <n>', 'seed of the generated organisation', parseNonNegativeInt, 1)
    .option('--dir <dir>', 'the sandbox folder (default ./.keyledger/sandbox; a previous run there is replaced)')
    .option('--port-base <port>', 'fixed ports from here on (default: free ports)', parseNonNegativeInt)
    .option('--rate-limits <mode>', 'documented (each provider sandbox enforces its limit) or off', 'documented')
    .option('--host <host>', 'address the server listens on (default 127.0.0.1, or the server config)')
    .option(
      '--server-port <port>',
      'port of the server (0: a free one; default 8080, or the server config)',
      parseNonNegativeInt,
    )
    .option('--schedule <cron>', "the rotation controller's schedule: 5-field cron, UTC", '0 2 * * *')
    .option('--once', 'set everything up, print it, and stop (no waiting)')
    .option('--json', 'print what runs where as JSON')
    .action(async (options: StartOptions) => {
      if (!['small', 'default', '100k'].includes(options.org))
        throw new UsageError(`--org must be small, default or 100k; got "${options.org}"`);
      if (!['documented', 'off'].includes(options.rateLimits))
        throw new UsageError(`--rate-limits must be documented or off; got "${options.rateLimits}"`);
      const opened = await openOrganisation({
        org: options.org as OpenOrganisationOptions['org'],
        seed: options.seed,
        dir: resolve(context.cwd, options.dir ?? join('.keyledger', 'sandbox')),
        rateLimits: options.rateLimits as 'documented' | 'off',
        env: context.env,
        cwd: context.cwd,
        clock: context.clock,
        ...(options.portBase ? { portBase: options.portBase } : {}),
        ...(context.logger ? { logger: context.logger } : {}),
      });
      let started: StartedServer | undefined;
      try {
        const config = await loadServerConfig({
          env: context.env,
          cwd: context.cwd,
          // A terminal showing the banner: requests are not logged unless asked for.
          overrides: {
            host: options.host,
            port: options.serverPort,
            ...(context.env.KEYLEDGER_SERVER_LOG_LEVEL ? {} : { logLevel: 'warn' as const }),
          },
        });
        started = await startServerAndController(opened, {
          config,
          env: context.env,
          cwd: context.cwd,
          clock: context.clock,
          logger: createLogger({ level: config.logLevel, write: (line) => context.stderr.write(line) }),
          schedule: options.schedule,
        });
        if (options.json)
          printJson(context, {
            ...opened.where,
            server: serverJson(started),
            export: opened.exports,
            try: tryCommands(opened),
          });
        else printBanner(context, opened, started);
        if (options.once) return;
        context.stderr.write('keyledger start: running; Ctrl-C to stop\n');
        await new Promise<void>((resolveWait) => {
          const stop = () => resolveWait();
          process.once('SIGINT', stop);
          process.once('SIGTERM', stop);
        });
      } finally {
        await started?.stop();
        await opened.working.stop();
      }
    });
};

/** What `start --json` says of the server: where it is and the first admin credential, shown this once. */
function serverJson(started: StartedServer) {
  return {
    url: started.running.url,
    api: `${started.running.url}/api/v1`,
    openapi: `${started.running.url}/openapi.json`,
    adminToken: {
      keyId: started.adminToken.keyId,
      token: started.adminToken.token.reveal(),
      file: started.adminToken.file,
    },
    localAdmin: {
      email: started.localAdmin.email,
      password: started.localAdmin.password.reveal(),
      file: started.localAdmin.file,
    },
    controller: { schedule: started.schedule },
  };
}

function printBanner(context: CliContext, opened: OpenedOrganisation, started: StartedServer): void {
  const colors = palette(context);
  const out = (text: string) => context.stdout.write(`${text}\n`);
  const { where, working } = opened;
  const summary = working.sandbox.org!.summary;
  out(colors.bold('keyledger — a working sandbox organisation'));
  out(
    `organisation  ${summary.people} people (${summary.leavers} left), ${summary.teams} teams, ${summary.keys} keys: ` +
      `${summary.noClearOwner} without a clear owner, ${summary.ownerLeft} owned by leavers, ${summary.adminScope} with admin scope, ` +
      `${summary.unregistered} not in the registry`,
  );
  out(
    `registry      ${working.registryDir} (git; ${where.keys.registered} entries: ${where.keys.rotatable} rotatable by API, ${where.keys.manual} by ticket; ${where.due} due now)`,
  );
  out(`local state   ${working.dataDir} (operational store, master and fingerprint keys, providers.json, vault-token)`);
  out(`people        ${where.people}`);
  out(`secrets       Vault ${working.vault.url} (KV v2 mount "secret", every key at its vault_path)`);
  out(`consumer      ${working.consumer.url} (holds the rotatable keys; entries' probes point here)`);
  out(`tickets       ${working.ticketsDir} (Markdown, for keys rotated by hand)`);
  out(`operational   ${String(where.operationalStore)}`);
  out('');
  out(colors.bold('provider sandboxes'));
  context.stdout.write(
    renderTable(
      ['PROVIDER', 'URL'],
      Object.entries(working.sandbox.urls).map(([name, url]) => [name, url]),
    ),
  );
  out('');
  out(colors.bold('validate'));
  context.stdout.write(
    renderTable(
      ['RULE', 'FINDINGS'],
      Object.entries(where.validation.byRule)
        .sort((a, b) => b[1] - a[1])
        .map(([rule, count]) => [rule, String(count)]),
    ),
  );
  out(
    `${where.validation.errors} errors, ${where.validation.warnings} warnings in ${where.validation.files} registry files`,
  );
  out('');
  const server = serverJson(started);
  out(colors.bold('server'));
  out(`url           ${server.url} (API ${server.api}, OpenAPI ${server.openapi}, /healthz, /readyz)`);
  out(`dashboard     ${server.url}/ (sign in as the local admin below)`);
  out(`metrics       ${server.url}/metrics (Prometheus; rules and alerts in deploy/prometheus/)`);
  out(`scim          ${server.url}/scim/v2 (bearer: \`keyledger idp token create --source scim\`)`);
  out(`admin token   ${server.adminToken.token}`);
  out(
    `              shown once; kept in ${server.adminToken.file} (mode 0600); registry key ${server.adminToken.keyId}`,
  );
  out(
    `local admin   ${server.localAdmin.email} / ${server.localAdmin.password} (the dashboard's login; hash in ${server.localAdmin.file})`,
  );
  out(`controller    rotating what is due on "${server.controller.schedule}" (UTC)`);
  out(
    `  curl -H "Authorization: Bearer $(cat ${shellQuote(server.adminToken.file)})" '${server.api}/keys?due=overdue'`,
  );
  out('');
  out('Try, in another terminal (from this folder):');
  out(`  ${exportLine(opened.exports)}`);
  for (const line of tryCommands(opened)) out(`  ${line}`);
}

async function writeLeak(file: string, key: OrgKey): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  await writeFile(
    file,
    `# committed by mistake\nAWS_ACCESS_KEY_ID=${key.providerKeyId}\nAWS_SECRET_ACCESS_KEY=${key.secret}\n`,
    { mode: 0o600 },
  );
}

function shellQuote(value: string): string {
  return /^[\w@%+=:,./-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}
