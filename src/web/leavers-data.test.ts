// The leavers page's data over the offboarding journal's real tables (migration 0014) on both engines: a leaver in
// the people file with no job is `pending`; a running job shows its counts from the steps done so far; a done job
// its finish time; a failed one its failure; a job for someone the people file does not list (a SCIM deprovision)
// is a leaver too. Security sees every leaver; a member sees only leavers holding keys of their teams, with only
// those keys and steps counted; one leaver's page follows the same rule.
import { afterEach, describe, expect, it } from 'vitest';
import type { KeyledgerApp } from '../app/keyledger-app.js';
import type { OperationalStore } from '../db/operational-store.js';
import { forEachBackend } from '../db/test-support/test-databases.js';
import type { DirectoryPerson, DirectorySignal } from '../directory/identity-source.js';
import { PeopleDirectory } from '../directory/people-directory.js';
import { RotationJournal } from '../lifecycle/rotation/rotation-journal.js';
import type { LeaverKey } from '../offboarding/leaver-keys.js';
import { OffboardingJobs } from '../offboarding/offboarding-jobs.js';
import type { KeyEntry } from '../registry/key-entry-schema.js';
import { systemClock } from '../runtime/clock.js';
import type { Principal } from '../server/access.js';
import { type LeaversSources, leaverProgress, leaversWithProgress } from './leavers-data.js';
import type { Snapshot } from './registry-snapshot.js';

const security: Principal = {
  kind: 'session',
  subject: 'sec@example.com',
  email: 'sec@example.com',
  roles: ['security'],
  teams: [],
  scopes: ['*'],
};
const payments: Principal = {
  ...security,
  subject: 'pat@example.com',
  email: 'pat@example.com',
  roles: ['member'],
  teams: ['payments'],
};
const mobile: Principal = { ...payments, subject: 'mo@example.com', email: 'mo@example.com', teams: ['mobile'] };

function entry(keyId: string, team: string, owner: string, status: KeyEntry['status'] = 'active'): KeyEntry {
  return {
    key_id: keyId,
    owner_team: team,
    owner_individual: owner,
    status,
    purpose: keyId,
    scope: { provider: 'internal', permissions: ['read'] },
    created_at: '2026-01-01',
    last_rotated: '2026-01-01',
  } as KeyEntry;
}

function snapshotOf(entries: KeyEntry[]): Snapshot {
  const loaded = entries.map((e) => ({ file: `keys/${e.key_id}.yaml`, entry: e }));
  return {
    head: 'test',
    entries: loaded,
    byId: new Map(loaded.map((e) => [e.entry.key_id, e])),
    classes: new Map(),
    audit: {} as Snapshot['audit'],
    loadedAt: new Date(),
  } as Snapshot;
}

function found(keyId: string, team: string): LeaverKey {
  return { keyId, provider: 'internal', team, ties: ['owner'], because: ['names them as owner'], otherConsumers: [] };
}

function departure(email: string, team: string): { person: DirectoryPerson; signal: DirectorySignal } {
  return {
    person: { id: email, email, displayName: email.split('@')[0], team, status: 'deprovisioned', source: 'scim' },
    signal: {
      signalId: `scim:${email}:off`,
      source: 'scim',
      email,
      status: 'deprovisioned',
      at: '2026-12-07T09:00:00Z',
    },
  };
}

forEachBackend((backend) => {
  let store: OperationalStore | undefined;
  afterEach(async () => {
    await store?.close();
    store = undefined;
  });

  async function setUp(): Promise<{ sources: LeaversSources; jobs: OffboardingJobs }> {
    store = await backend.open();
    const people = new PeopleDirectory([
      { email: 'ada@example.com', name: 'Ada', team: 'payments', status: 'left', left_at: '2026-12-01' },
      { email: 'bo@example.com', name: 'Bo', team: 'mobile', status: 'left', left_at: '2026-12-02' },
      { email: 'cy@example.com', name: 'Cy', team: 'payments', status: 'left', left_at: '2026-12-03' },
      { email: 'dee@example.com', name: 'Dee', team: 'payments', status: 'active' },
    ]);
    // The parts of the app leavers-data reads: the operational store and the people file.
    const app = { operational: store, workspace: { people } } as unknown as KeyledgerApp;
    const journal = new RotationJournal(store.db, systemClock);
    await journal.plan({ keyId: 'bo-mobile-1', provider: 'internal', trigger: 'owner-left', store: 'env', path: 'X' });
    const snapshot = snapshotOf([
      entry('ada-pay-1', 'payments', 'ada@example.com'),
      entry('ada-pay-2', 'payments', 'dee@example.com'),
      entry('ada-mobile-1', 'mobile', 'mobile-lead@example.com'),
      entry('bo-mobile-1', 'mobile', 'bo@example.com', 'rotating'),
      entry('bo-mobile-2', 'mobile', 'bo@example.com', 'revoked'),
      entry('cy-pay-1', 'payments', 'cy@example.com'),
    ]);
    return {
      sources: { app, clock: systemClock, snapshot, journal },
      jobs: new OffboardingJobs(store.db, systemClock),
    };
  }

  describe('leavers and their offboarding jobs', () => {
    it('shows pending, running with counts so far, done and failed jobs, and a SCIM-only leaver, to security', async () => {
      const { sources, jobs } = await setUp();
      // Ada: running; two keys reassigned (one a payments key, one a mobile key), one rotated, one rotation pending.
      const ada = departure('ada@example.com', 'payments');
      const adaJob = (await jobs.open(ada.person, ada.signal, 'test')).job;
      await jobs.planSteps(adaJob.jobId, [
        'found',
        'reassign:ada-pay-2',
        'reassign:ada-mobile-1',
        'rotate:ada-pay-2',
        'rotate:ada-mobile-1',
        'sessions:okta',
      ]);
      await jobs.completeStep(adaJob.jobId, 'found', 'done', {
        keys: [found('ada-pay-2', 'payments'), found('ada-mobile-1', 'mobile')],
      });
      await jobs.completeStep(adaJob.jobId, 'reassign:ada-pay-2', 'done', {
        keyId: 'ada-pay-2',
        to: 'dee@example.com',
      });
      await jobs.completeStep(adaJob.jobId, 'reassign:ada-mobile-1', 'done', { keyId: 'ada-mobile-1' });
      await jobs.completeStep(adaJob.jobId, 'rotate:ada-mobile-1', 'done', { keyId: 'ada-mobile-1', rotationId: 'r1' });
      await jobs.begin(adaJob.jobId);
      // Cy: failed. Eve (not in the people file, deprovisioned over SCIM): done with a ticket left to a person.
      const cy = departure('cy@example.com', 'payments');
      const cyJob = (await jobs.open(cy.person, cy.signal, 'test')).job;
      await jobs.planSteps(cyJob.jobId, ['found', 'rotate:cy-pay-1']);
      await jobs.completeStep(cyJob.jobId, 'found', 'done', { keys: [found('cy-pay-1', 'payments')] });
      await jobs.completeStep(cyJob.jobId, 'rotate:cy-pay-1', 'failed', { keyId: 'cy-pay-1', error: 'E_PROVIDER' });
      await jobs.finish(cyJob.jobId, 'failed', {}, 'rotate:cy-pay-1 failed');
      const eve = departure('eve@example.com', 'mobile');
      const eveJob = (await jobs.open(eve.person, eve.signal, 'test')).job;
      await jobs.planSteps(eveJob.jobId, ['found', 'handover:eve-mobile-9', 'sessions:okta']);
      await jobs.completeStep(eveJob.jobId, 'found', 'done', { keys: [found('eve-mobile-9', 'mobile')] });
      await jobs.completeStep(eveJob.jobId, 'handover:eve-mobile-9', 'left', {
        keyId: 'eve-mobile-9',
        ticket: { id: 'OPS-7', url: 'https://tickets.example.test/OPS-7' },
      });
      await jobs.completeStep(eveJob.jobId, 'sessions:okta', 'done', {});
      await jobs.finish(eveJob.jobId, 'done', {});

      const rows = await leaversWithProgress(sources, security);
      expect(rows.map((row) => [row.email, row.state])).toEqual([
        ['ada@example.com', 'running'],
        ['cy@example.com', 'failed'],
        ['bo@example.com', 'pending'],
        ['eve@example.com', 'done'],
      ]);
      const [adaRow, cyRow, boRow, eveRow] = rows;
      expect(adaRow!.report!.counts).toEqual({
        found: 2,
        reassigned: 2,
        rotated: 1,
        disabled: 0,
        left: 0,
        failed: 0,
        sessionsRevoked: 0,
      });
      expect(adaRow!.report!.pending.map((step) => step.step)).toEqual(['rotate:ada-pay-2', 'sessions:okta']);
      expect(adaRow).toMatchObject({ name: 'Ada', leftAt: '2026-12-01', attempts: 1, finishedAt: undefined });
      expect(adaRow!.liveKeys.map((key) => key.key_id)).toEqual(['ada-pay-1']);
      expect(cyRow!.report).toMatchObject({ failure: 'rotate:cy-pay-1 failed', counts: { found: 1, failed: 1 } });
      expect(boRow).toMatchObject({ state: 'pending', report: undefined, rotating: 1, closedKeys: 1 });
      expect(boRow!.liveKeys.map((key) => key.key_id)).toEqual(['bo-mobile-1']);
      expect(eveRow!.finishedAt).toBeDefined();
      expect(eveRow).toMatchObject({ name: 'eve', team: 'mobile', leftAt: '2026-12-07T09:00:00Z' });
      expect(eveRow!.report!.counts).toMatchObject({ found: 1, left: 1, sessionsRevoked: 1 });
      expect(eveRow!.report!.tickets).toEqual([
        { keyId: 'eve-mobile-9', id: 'OPS-7', url: 'https://tickets.example.test/OPS-7' },
      ]);

      // A member of payments sees Ada (payments keys only: one found, one reassigned, nothing rotated yet) and Cy;
      // a member of mobile sees Ada's mobile key, Bo and Eve.
      const forPayments = await leaversWithProgress(sources, payments);
      expect(forPayments.map((row) => row.email)).toEqual(['ada@example.com', 'cy@example.com']);
      expect(forPayments[0]!.report!.counts).toMatchObject({ found: 1, reassigned: 1, rotated: 0 });
      expect(forPayments[0]!.report!.found.map((key) => key.keyId)).toEqual(['ada-pay-2']);
      expect(forPayments[0]!.report!.pending.map((step) => step.step)).toEqual(['rotate:ada-pay-2', 'sessions:okta']);
      const forMobile = await leaversWithProgress(sources, mobile);
      expect(forMobile.map((row) => row.email)).toEqual(['ada@example.com', 'bo@example.com', 'eve@example.com']);
      expect(forMobile[0]!.report!.counts).toMatchObject({ found: 1, reassigned: 1, rotated: 1 });
      expect(forMobile[0]!.liveKeys).toEqual([]);
      expect(JSON.stringify(forMobile)).not.toContain('ada-pay-');

      // One leaver: by any case of the email; a member outside their keys' teams gets nothing.
      expect((await leaverProgress(sources, security, 'ADA@example.com'))?.state).toBe('running');
      expect(await leaverProgress(sources, mobile, 'cy@example.com')).toBeUndefined();
      expect((await leaverProgress(sources, payments, 'cy@example.com'))?.state).toBe('failed');
      expect(await leaverProgress(sources, security, 'dee@example.com')).toBeUndefined();
      expect(await leaverProgress(sources, security, 'nobody@example.com')).toBeUndefined();
    });
  });
});
