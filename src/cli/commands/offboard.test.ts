// Offboarding end to end on the sandbox organisation (`keyledger start`'s, the `small` profile): its leavers are
// departed through the directory (DirectoryUpdates.apply, as the SCIM server and Okta's event hook will), all but
// one; afterwards no live key names a departed owner, every key of theirs was rotated (or ticketed, for providers
// without an issuance API) with no consumer call failing, their sessions were revoked at Okta, Entra and Google
// (sandboxes), and each has a report listing their keys. Duplicate and out-of-order signals then change nothing.
// The last leaver, whose signal never came, is found by `keyledger offboard --reconcile`; `--status` lists all.
// KEYLEDGER_OFFBOARD_E2E_ORG=default runs it on the brief's organisation (110 people, 38 leavers, 65 of their keys;
// a few minutes) instead of the small one.
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type KeyledgerApp, openKeyledgerApp } from '../../app/keyledger-app.js';
import type { DirectoryPerson } from '../../directory/identity-source.js';
import { type OutboundIdpSandboxes, startOutboundIdpSandboxes } from '../../idp/test-support/outbound-idp-sandboxes.js';
import { MemoryDirectory } from '../../offboarding/memory-directory.js';
import type { OffboardingReport } from '../../offboarding/offboarding-report.js';
import { createOffboardingWorkflow } from '../../offboarding/offboarding-services.js';
import type { OffboardingWorkflow } from '../../offboarding/offboarding-workflow.js';
import { systemClock } from '../../runtime/clock.js';
import type { OrgPerson } from '../../sandbox/org/org-model.js';
import { runCli } from '../test-support/run-cli.js';
import { IDENTITY_SOURCES_FILE_NAME } from './offboard.js';
import { type OpenedOrganisation, openOrganisation } from './start.js';

const ORG = process.env.KEYLEDGER_OFFBOARD_E2E_ORG === 'default' ? 'default' : 'small';

let work: string;
let opened: OpenedOrganisation;
let env: NodeJS.ProcessEnv;
let idps: OutboundIdpSandboxes;
let app: KeyledgerApp;
let workflow: OffboardingWorkflow;
let directory: MemoryDirectory;
let leavers: OrgPerson[];
/** Departed by signal; the last leaver is left to reconciliation. */
let signalled: OrgPerson[];

const head = () => execFileSync('git', ['rev-parse', 'HEAD'], { cwd: opened.working.registryDir }).toString().trim();

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'keyledger-offboard-'));
  opened = await openOrganisation({
    org: ORG,
    seed: 1,
    dir: join(work, '.keyledger', 'sandbox'),
    rateLimits: 'off',
    env: {},
    cwd: work,
    clock: systemClock,
    consumer: { refreshMs: 60_000, callMs: 500 },
  });
  const { PATH, HOME } = process.env;
  env = { PATH, HOME, TMPDIR: tmpdir(), ...opened.exports };
  const org = opened.working.sandbox.org!;
  leavers = org.people.filter((person) => person.status === 'left');
  signalled = leavers.slice(0, -1);
  // The identity providers still have everyone active: they hear of the departures as we do.
  idps = await startOutboundIdpSandboxes(
    org.people.map((person) => ({
      email: person.email,
      name: person.name,
      login: person.login,
      status: person.status,
    })),
    { leaversAsActive: true },
  );
  await writeFile(join(opened.working.dataDir, IDENTITY_SOURCES_FILE_NAME), JSON.stringify(idps.options), {
    mode: 0o600,
  });
  app = await openKeyledgerApp({ registryDir: opened.working.registryDir, env, cwd: work, clock: systemClock });
  workflow = createOffboardingWorkflow({
    db: app.operational.db,
    events: app.events,
    clock: systemClock,
    writer: app.writer,
    config: app.workspace.config,
    rotation: app.rotation({ actor: 'test:offboarding' }),
    revoker: app.revoker(),
    identitySources: idps.sources(),
  });
  // Before the departures, the directory has everyone active.
  directory = new MemoryDirectory(
    org.people.map(
      (person): DirectoryPerson => ({
        id: person.login,
        email: person.email,
        team: person.team,
        status: 'active',
        statusChangedAt: `${person.joinedAt}T09:00:00.000Z`,
        source: 'hr-file',
      }),
    ),
  );
  directory.onDeparture(workflow.onDeparture);
}, 300_000);

afterAll(async () => {
  await app?.close();
  await idps?.stop();
  await opened?.working.stop();
  await rm(work, { recursive: true, force: true });
});

describe(`offboarding the sandbox organisation (${ORG})`, () => {
  const reports = new Map<string, OffboardingReport>();

  it('departs the leavers through the directory: every key reassigned and rotated, sessions revoked', async () => {
    const at = new Date().toISOString();
    for (const person of signalled) {
      const result = await directory.apply(
        {
          signalId: `scim:${person.login}:deprovision`,
          source: 'scim',
          email: person.email,
          status: 'deprovisioned',
          at,
        },
        { id: person.login },
      );
      expect(result.departed).toBe(true);
      const job = await workflow.jobs.get(person.email);
      reports.set(person.email, job!.report as OffboardingReport);
    }
    const departed = new Set(signalled.map((person) => person.email));
    for (const { entry } of await app.rotation().loadEntries()) {
      if (entry.status === 'revoked' || entry.status === 'retired') continue;
      expect(departed.has(entry.owner_individual?.toLowerCase() ?? '')).toBe(false);
    }
    const ownedByLeavers = opened.working.sandbox.org!.keys.filter(
      (key) => key.registered && key.registryOwnerIndividual && departed.has(key.registryOwnerIndividual),
    );
    expect(ownedByLeavers.length).toBeGreaterThan(0);
    for (const person of signalled) {
      const report = reports.get(person.email)!;
      expect(report.state).toBe('done');
      expect(report.counts.failed).toBe(0);
      // Every key of theirs is in the report, and was rotated (or handed to a person through a ticket).
      const theirs = ownedByLeavers.filter((key) => key.registryOwnerIndividual === person.email);
      for (const key of theirs) {
        expect(report.found.map((found) => found.keyId)).toContain(key.keyId);
        const rotation = [...report.done, ...report.left].find((step) => step.step === `rotate:${key.keyId}`);
        expect(rotation?.state === 'done' || (rotation?.state === 'left' && report.tickets.length > 0)).toBe(true);
      }
      for (const step of report.done.filter((s) => s.step.startsWith('rotate:') && s.state === 'done')) {
        const [row] = await app.rotation().journal.list({ keyId: step.keyId!, states: ['done'] });
        expect(row?.trigger).toBe('owner-left');
      }
      expect(report.counts.sessionsRevoked).toBe(3);
      for (const name of ['okta', 'entra', 'google'] as const)
        expect(idps[name].sandbox.people.revocations.map((r) => r.email)).toContain(person.email);
    }
    const rotated = [...reports.values()].reduce((sum, report) => sum + report.counts.rotated, 0);
    const rotatable = new Set(opened.working.rotatable.map((key) => key.keyId));
    expect(rotated).toBeGreaterThanOrEqual(ownedByLeavers.filter((key) => rotatable.has(key.keyId)).length);

    expect(opened.working.consumer.stats().failures).toBe(0);
    const secrets = opened.working.sandbox.org!.keys.map((key) => key.secret);
    const reportText = JSON.stringify([...reports.values()]);
    for (const secret of secrets) expect(reportText).not.toContain(secret);
  }, 300_000);

  it('duplicate and out-of-order signals change nothing', async () => {
    const before = head();
    const events = (await app.events.list({ limit: 10_000 })).length;
    const revocations = idps.okta.sandbox.people.revocations.length;
    for (const person of signalled) {
      // Delivered again (at least once), an older "active" arriving late, and a later suspend of a gone person.
      await directory.apply({
        signalId: `scim:${person.login}:deprovision`,
        source: 'scim',
        email: person.email,
        status: 'deprovisioned',
        at: new Date().toISOString(),
      });
      await directory.apply({
        signalId: `okta:${person.login}:old-activate`,
        source: 'okta',
        email: person.email,
        status: 'active',
        at: '2024-01-01T00:00:00.000Z',
      });
      await directory.apply({
        signalId: `okta:${person.login}:suspend`,
        source: 'okta',
        email: person.email,
        status: 'suspended',
        at: new Date(Date.now() + 1000).toISOString(),
      });
    }
    expect(head()).toBe(before);
    expect((await app.events.list({ limit: 10_000 })).length).toBe(events);
    expect(idps.okta.sandbox.people.revocations.length).toBe(revocations);
    expect(await workflow.jobs.list()).toHaveLength(signalled.length);
  });

  it('offboard --reconcile finds the leaver no signal reached; --status lists every job done', async () => {
    const last = leavers.at(-1)!;
    const run = await runCli(['offboard', '--reconcile', '--json'], { cwd: work, env, clock: systemClock });
    expect(run.stderr).toBe('');
    const report = JSON.parse(run.stdout);
    expect(report.notOffboarded.map((p: { email: string }) => p.email)).toEqual([last.email]);
    expect(report.offboarded).toEqual([{ email: last.email, state: 'done' }]);
    expect(run.code).toBe(0);
    for (const { entry } of await app.rotation().loadEntries())
      if (entry.status !== 'revoked') expect(entry.owner_individual?.toLowerCase()).not.toBe(last.email);
    expect(idps.google.sandbox.people.revocations.map((r) => r.email)).toContain(last.email);
    const status = await runCli(['offboard', '--status', '--json'], { cwd: work, env, clock: systemClock });
    const jobs = JSON.parse(status.stdout).jobs as Array<{ email: string; state: string }>;
    expect(jobs.map((job) => job.email).sort()).toEqual(leavers.map((person) => person.email).sort());
    expect(jobs.every((job) => job.state === 'done')).toBe(true);
    const markdown = await readFile(join(opened.working.dataDir, 'offboarding', `${last.email}.md`), 'utf8');
    expect(markdown).toContain(`# Offboarding: ${last.email}`);
    // Run again: nothing left to do.
    const again = JSON.parse(
      (await runCli(['offboard', '--reconcile', '--json'], { cwd: work, env, clock: systemClock })).stdout,
    );
    expect(again.offboarded).toEqual([]);
  }, 300_000);

  it('the controller reconciles departures after its run when asked', async () => {
    const run = await runCli(['controller', '--once', '--reconcile-departures', '--json'], {
      cwd: work,
      env,
      clock: systemClock,
    });
    const lines = run.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(lines.at(-1)).toEqual({ reconcile: { offboarded: 0, unfinished: 0, unreadable: [] } });
    expect(opened.working.consumer.stats().failures).toBe(0);
  }, 300_000);
});
