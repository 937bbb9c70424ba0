// `keyledger offboard`: the offboarding workflow (docs/offboarding.md) from the command line. `offboard EMAIL`
// offboards one person now (a manual departure signal) and prints their report; `--dry-run` prints what it would
// do; `--status [EMAIL]` lists the jobs (or prints one report); `--resume` finishes the jobs a crash or a failed
// rotation left; `--reconcile` compares the directory, the identity providers and the registry and offboards anyone
// who left without a signal reaching us. Reports are also written to `<data folder>/offboarding/<email>.{md,json}`.
// Identity providers (sessions, reconciliation) come from `identity-sources.json` in the data folder or the file
// KEYLEDGER_IDENTITY_SOURCES_FILE names (src/idp/outbound-identity-sources.ts).
import type { KeyledgerApp } from '../../app/keyledger-app.js';
import { type DirectoryStore, directoryFor } from '../../directory/directory-store.js';
import type { DirectoryPerson, DirectorySignal, IdentitySource } from '../../directory/identity-source.js';
import { UsageError } from '../../errors/keyledger-error.js';
import { readIdentitySourcesFile } from '../../idp/identity-sources-file.js';
import { feedPeopleFile } from '../../idp/people-file-feed.js';
import { type ReconciliationReport, reconcileDepartures } from '../../offboarding/departure-reconciliation.js';
import { directoryPeopleOf, MemoryDirectory } from '../../offboarding/memory-directory.js';
import { type OffboardingReport, renderOffboardingMarkdown } from '../../offboarding/offboarding-report.js';
import { offboardingWorkflowForApp } from '../../offboarding/offboarding-services.js';
import type { OffboardingWorkflow } from '../../offboarding/offboarding-workflow.js';
import { detectOrphans, readOrphanEvidence } from '../../offboarding/orphan-keys.js';
import { sharedOwnerPolicy } from '../../offboarding/shared-owner.js';
import type { Clock } from '../../runtime/clock.js';
import { type CliContext, printJson } from '../cli-context.js';
import type { RegisterCommand } from '../command-table.js';
import { actorFor, addSharedOptions, openAppFor, type SharedOptions } from '../common-options.js';
import { EXIT_VIOLATIONS } from '../exit-codes.js';
import { renderTable } from '../render/table.js';

export { IDENTITY_SOURCES_FILE_NAME, IDENTITY_SOURCES_FILE_VARIABLE } from '../../idp/identity-sources-file.js';

interface OffboardOptions extends SharedOptions {
  dryRun?: boolean;
  status?: boolean;
  resume?: boolean;
  reconcile?: boolean;
  orphans?: boolean;
  tickets?: string;
}

export const registerOffboardCommand: RegisterCommand = (program, context) => {
  const command = program
    .command('offboard')
    .argument('[email]', 'the person who left (their work email, as registry entries name owners)')
    .description(
      'offboard a leaver: reassign, rotate and disable their keys, end their sessions (--status, --resume, --reconcile, --orphans)',
    )
    .option('--dry-run', 'print what would be done, change nothing (with EMAIL or --reconcile)')
    .option('--status', 'list offboarding jobs, or print the report of EMAIL')
    .option('--resume', 'finish the jobs a crash or a failed rotation left')
    .option('--reconcile', 'offboard anyone the directory or an identity provider shows as gone who was not offboarded')
    .option('--orphans', "report the brief's three orphan shapes, each with the owner it should have")
    .option('--tickets <sink>', 'where tickets go: markdown:<dir>, github:<owner/repo>, jira:<PROJECT>');
  addSharedOptions(command, { json: 'print the report(s) as JSON' });
  command.action(async (email: string | undefined, options: OffboardOptions) => {
    // --status takes an optional EMAIL; otherwise exactly one of EMAIL, --resume, --reconcile, --orphans.
    const modes = [
      options.status,
      email !== undefined && !options.status,
      options.resume,
      options.reconcile,
      options.orphans,
    ];
    if (modes.filter(Boolean).length !== 1)
      throw new UsageError('give exactly one of: an EMAIL, --status [EMAIL], --resume, --reconcile, --orphans');
    if (options.dryRun && (options.status || options.resume || options.orphans))
      throw new UsageError('--dry-run goes with an EMAIL or --reconcile');
    const app = await openAppFor(context, options);
    try {
      const sources = await identitySourcesOf(context, app);
      const workflow = offboardingWorkflowForApp(app, {
        clock: context.clock,
        actor: actorFor(context, options),
        identitySources: sources,
        ...(options.tickets ? { tickets: options.tickets } : {}),
      });
      if (options.status) return await status(context, workflow, email, options);
      if (options.resume) return printReports(context, await workflow.resume(), options);
      if (options.reconcile) return await reconcile(context, app, workflow, sources, options);
      if (options.orphans) return await orphans(context, app, options);
      return await offboardOne(context, app, workflow, email!, options);
    } finally {
      await app.close();
    }
  });
};

function identitySourcesOf(context: CliContext, app: KeyledgerApp): Promise<IdentitySource[]> {
  return readIdentitySourcesFile({ env: context.env, cwd: context.cwd, dataDir: app.dataDir });
}

/**
 * The app's directory store (src/directory/directory-store.ts) with the HR file fed into it: a `left` row is a
 * departure signal like a SCIM deprovision. Fed before anyone listens, so those departures stay pending until a
 * listener (the server's offboarding module, or --reconcile) takes them.
 */
async function directoryOf(app: KeyledgerApp, clock: Clock): Promise<DirectoryStore> {
  const directory = directoryFor(app.operational.db, clock);
  await feedPeopleFile(app.workspace.people?.people() ?? [], directory, clock);
  return directory;
}

/** Everyone the directory store knows, and the HR file's people it does not know yet (read-only: nothing is fed). */
async function knownPeople(app: KeyledgerApp, clock: Clock): Promise<DirectoryPerson[]> {
  const stored = await directoryFor(app.operational.db, clock).list();
  const storedEmails = new Set(stored.map((person) => person.email));
  const fromFile = directoryPeopleOf(app.workspace.people?.people() ?? []).filter(
    (person) => !storedEmails.has(person.email.toLowerCase()),
  );
  return [...stored, ...fromFile];
}

/** The person as the directory knows them, else as the HR file does, else as little as the email says. */
async function personFrom(app: KeyledgerApp, directory: DirectoryStore, email: string): Promise<DirectoryPerson> {
  const normalised = email.trim().toLowerCase();
  const known = await directory.find(normalised);
  const [fromFile] = directoryPeopleOf([
    app.workspace.people?.find(normalised) ?? { email: normalised, status: 'left' },
  ]);
  const person = known ?? fromFile!;
  return { ...person, status: person.status === 'active' ? 'deprovisioned' : person.status, source: 'manual' };
}

async function offboardOne(
  context: CliContext,
  app: KeyledgerApp,
  workflow: OffboardingWorkflow,
  email: string,
  options: OffboardOptions,
): Promise<void> {
  if (!email.includes('@')) throw new UsageError(`"${email}" is not an email address`);
  // A dry run changes nothing, so it reads the directory without feeding the HR file into it.
  const directory = options.dryRun ? undefined : await directoryOf(app, context.clock);
  const person = await personFrom(app, directory ?? directoryFor(app.operational.db, context.clock), email);
  if (options.dryRun) {
    const plan = await workflow.plan(person);
    if (options.json) return printJson(context, { email: person.email, dryRun: true, ...plan });
    context.stdout.write(`${person.email}: ${plan.keys.length} key(s) found, ${plan.steps.length} step(s) to do\n`);
    context.stdout.write(
      renderTable(
        ['STEP', 'WHAT'],
        plan.steps.map((step) => [step.step, step.what]),
      ),
    );
    return;
  }
  const at = context.clock().toISOString();
  const signal: DirectorySignal = {
    signalId: `manual:${person.email}:${at}`,
    source: 'manual',
    email: person.email,
    status: person.status,
    at,
  };
  // Recorded in the directory as a manual departure (the store then shows them gone for `validate`, `audit`), and
  // offboarded now whether or not it changed their status: the command is someone asking for it.
  let report: OffboardingReport | undefined;
  const stop = directory!.onDeparture(async (departed, heard) => {
    if (heard.signalId === signal.signalId) report = await workflow.offboard(departed, heard);
  });
  try {
    const applied = await directory!.apply(signal);
    report ??= await workflow.offboard(applied.person.status === 'active' ? person : applied.person, signal);
  } finally {
    stop();
  }
  printReports(context, [report], options);
}

function printReports(context: CliContext, reports: OffboardingReport[], options: OffboardOptions): void {
  if (reports.some((report) => report.state !== 'done')) context.exitCode = EXIT_VIOLATIONS;
  if (options.json) {
    printJson(context, reports.length === 1 ? reports[0] : { reports });
    return;
  }
  if (!reports.length) context.stdout.write('Nothing to resume: every offboarding job has finished.\n');
  for (const report of reports) context.stdout.write(renderOffboardingMarkdown(report));
}

async function status(
  context: CliContext,
  workflow: OffboardingWorkflow,
  email: string | undefined,
  options: OffboardOptions,
): Promise<void> {
  if (email) {
    const job = await workflow.jobs.get(email);
    if (!job?.report) throw new UsageError(`no offboarding job for ${email}`);
    return printReports(context, [job.report as OffboardingReport], options);
  }
  const jobs = await workflow.jobs.list();
  const rows = jobs.map((job) => {
    const counts = (job.report as OffboardingReport | undefined)?.counts;
    return { email: job.email, state: job.state, since: job.createdAt, attempts: job.attempts, ...(counts ?? {}) };
  });
  if (jobs.some((job) => job.state !== 'done')) context.exitCode = EXIT_VIOLATIONS;
  if (options.json) return printJson(context, { jobs: rows });
  if (!rows.length) {
    context.stdout.write('No offboarding jobs.\n');
    return;
  }
  context.stdout.write(
    renderTable(
      ['EMAIL', 'STATE', 'SINCE', 'FOUND', 'ROTATED', 'LEFT', 'FAILED'],
      rows.map((row) => [
        row.email,
        row.state,
        row.since,
        String(row.found ?? '-'),
        String(row.rotated ?? '-'),
        String(row.left ?? '-'),
        String(row.failed ?? '-'),
      ]),
    ),
  );
}

/** Reconciliation over the app's registry, HR file and configured identity sources (`offboard --reconcile`, the controller). */
export async function reconcileForApp(
  context: CliContext,
  app: KeyledgerApp,
  options: { actor: string; tickets?: string; dryRun?: boolean },
): Promise<ReconciliationReport> {
  const sources = await identitySourcesOf(context, app);
  const workflow = offboardingWorkflowForApp(app, {
    clock: context.clock,
    actor: options.actor,
    identitySources: sources,
    ...(options.tickets ? { tickets: options.tickets } : {}),
  });
  return runReconciliation(context, app, workflow, sources, options.dryRun === true);
}

async function runReconciliation(
  context: CliContext,
  app: KeyledgerApp,
  workflow: OffboardingWorkflow,
  sources: IdentitySource[],
  dryRun: boolean,
): Promise<ReconciliationReport> {
  const entries = await app.rotation().loadEntries();
  const isSharedOwner = sharedOwnerPolicy(app.workspace.config).isShared;
  if (dryRun) {
    // Changes nothing, not even the directory: a copy of what it holds, with the HR file laid under it.
    const copy = new MemoryDirectory(await knownPeople(app, context.clock));
    return reconcileDepartures({
      directory: copy,
      sources,
      entries,
      workflow,
      isSharedOwner,
      clock: context.clock,
      dryRun: true,
    });
  }
  const directory = await directoryOf(app, context.clock);
  const stop = directory.onDeparture(workflow.onDeparture);
  try {
    const report = await reconcileDepartures({
      directory,
      sources,
      entries,
      workflow,
      isSharedOwner,
      clock: context.clock,
    });
    // Departures recorded while nothing listened (the HR file just fed, a signal before the server ran) are
    // offboarded by now: hearing them again finds their jobs done, and clears them from the pending list.
    await directory.redeliverDepartures();
    return report;
  } finally {
    stop();
  }
}

async function reconcile(
  context: CliContext,
  app: KeyledgerApp,
  workflow: OffboardingWorkflow,
  sources: IdentitySource[],
  options: OffboardOptions,
): Promise<void> {
  const report = await runReconciliation(context, app, workflow, sources, options.dryRun === true);
  if (report.offboarded.some((person) => person.state !== 'done') || report.unreadable.length)
    context.exitCode = EXIT_VIOLATIONS;
  if (options.json) return printJson(context, report);
  const out = (line: string) => context.stdout.write(`${line}\n`);
  out(`identity sources: ${sources.map((source) => source.name).join(', ') || 'none configured'}`);
  for (const missed of report.missedSignals)
    out(`missed signal: ${missed.email} is ${missed.status} at ${missed.source}`);
  for (const person of report.notOffboarded)
    out(`not offboarded: ${person.email} (${person.status}; job ${person.job})`);
  for (const conflict of report.conflicts)
    out(`conflict: ${conflict.email}: directory ${conflict.directory}, ${conflict.source} ${conflict.provider}`);
  for (const owner of report.unknownOwners) out(`unknown owner: ${owner.email} (${owner.keys.length} key(s))`);
  for (const failure of report.unreadable) out(`unreadable: ${failure.source}: ${failure.error}`);
  for (const person of report.offboarded) out(`offboarded: ${person.email} (${person.state})`);
  if (options.dryRun) out('dry run: nothing changed');
}

async function orphans(context: CliContext, app: KeyledgerApp, options: OffboardOptions): Promise<void> {
  // Departures SCIM or Okta reported count as much as the HR file's: the people are the directory's.
  const found = detectOrphans({
    entries: await app.rotation().loadEntries(),
    ...(await readOrphanEvidence(app.operational.db)),
    people: await knownPeople(app, context.clock),
    sharedOwners: sharedOwnerPolicy(app.workspace.config),
    now: context.clock(),
  });
  if (options.json) return printJson(context, { orphans: found });
  context.stdout.write(
    renderTable(
      ['SHAPE', 'KEY', 'PROVIDER', 'OWNER NOW', 'SHOULD BE', 'WHY'],
      found.map((orphan) => [
        orphan.shape,
        orphan.key,
        orphan.provider,
        orphan.owner ?? '-',
        orphan.shouldBeOwnedBy,
        orphan.because,
      ]),
    ),
  );
}
