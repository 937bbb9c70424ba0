// Offboarding speed (docs/offboarding.md, docs/benchmarks.md `## Offboarding`): on the sandbox organisation of
// `keyledger start` (providers enforcing their documented rate limits, adapters pacing to them), the time from a
// departure signal reaching the directory to the last of the leaver's keys rotated, (A) for one leaver owning
// KEYS keys and (B) for every leaver of the organisation departed at once (the default organisation: 38 leavers,
// 65 keys). Each is set against the bound the providers' rate limits put on it: per provider, keys x requests per
// rotation / allowed requests per second, the slowest provider being the bound (providers run side by side).
// Run: `npx tsx bench/offboarding.ts` (flags: --org small|default, --keys 20, --rate-limits documented|off,
// --via directory|scim). `--via scim` runs the real server with its modules (src/app/server-modules.ts) and departs
// each leaver by Okta's SCIM PATCH over HTTP, timed from the first request to the server's offboarding queue
// going idle (src/server/offboarding-module.ts); `--via directory` (default) applies the signals to the directory
// in process. `--org small --keys 5` is the quick check; the figures in docs/benchmarks.md come from the defaults.
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { type KeyledgerApp, openKeyledgerApp } from '../src/app/keyledger-app.js';
import { createServerModules } from '../src/app/server-modules.js';
import { openOrganisation } from '../src/cli/commands/start.js';
import type { DirectoryPerson } from '../src/directory/identity-source.js';
import { createIdpCredential } from '../src/directory/idp-credentials.js';
import { IDENTITY_SOURCES_FILE_NAME } from '../src/idp/identity-sources-file.js';
import { startOutboundIdpSandboxes } from '../src/idp/test-support/outbound-idp-sandboxes.js';
import { scimClient } from '../src/idp/test-support/scim-client.js';
import { requestsPerRotation } from '../src/lifecycle/rotation/rotation-scheduler.js';
import { MemoryDirectory } from '../src/offboarding/memory-directory.js';
import { OffboardingJobs } from '../src/offboarding/offboarding-jobs.js';
import type { OffboardingQueue } from '../src/offboarding/offboarding-queue.js';
import type { OffboardingReport } from '../src/offboarding/offboarding-report.js';
import { createOffboardingWorkflow } from '../src/offboarding/offboarding-services.js';
import { systemClock } from '../src/runtime/clock.js';
import { createKeyledgerServer, type KeyledgerServer } from '../src/server/keyledger-server.js';
import { serverConfigSchema } from '../src/server/server-config.js';
import { createLogger } from '../src/telemetry/logger.js';

const { values } = parseArgs({
  options: {
    org: { type: 'string', default: 'default' },
    keys: { type: 'string', default: '20' },
    'rate-limits': { type: 'string', default: 'documented' },
    via: { type: 'string', default: 'directory' },
  },
});
const via = values.via === 'scim' ? 'scim' : 'directory';
const org = values.org as 'small' | 'default';
const keysForOne = Number(values.keys);
const rateLimits = values['rate-limits'] as 'documented' | 'off';
const log = (line: string) => process.stderr.write(`${line}\n`);

const work = await mkdtemp(join(tmpdir(), 'keyledger-offboarding-bench-'));
log(`setting up the ${org} organisation (rate limits ${rateLimits})...`);
const opened = await openOrganisation({
  org,
  seed: 1,
  dir: join(work, 'sandbox'),
  rateLimits,
  env: {},
  cwd: work,
  clock: systemClock,
  consumer: { refreshMs: 60_000, callMs: 2_000 },
});
const generated = opened.working.sandbox.org!;
const env = { PATH: process.env.PATH, HOME: process.env.HOME, TMPDIR: tmpdir(), ...opened.exports };
const idps = await startOutboundIdpSandboxes(
  generated.people.map((person) => ({
    email: person.email,
    name: person.name,
    login: person.login,
    status: person.status,
  })),
  { leaversAsActive: true },
);
let server: KeyledgerServer | undefined;
let queue: OffboardingQueue | undefined;
let app: KeyledgerApp;
/** Departs these people and resolves once their jobs have run. */
let departAll: (people: typeof generated.people) => Promise<void>;
let jobs: OffboardingJobs;
if (via === 'scim') {
  await writeFile(join(opened.working.dataDir, IDENTITY_SOURCES_FILE_NAME), JSON.stringify(idps.options), {
    mode: 0o600,
  });
  server = await createKeyledgerServer({
    config: serverConfigSchema.parse({ port: 0, shutdownTimeoutMs: 10_000 }),
    app: { registryDir: opened.working.registryDir, env, cwd: work },
    clock: systemClock,
    logger: createLogger({ level: 'warn', write: (line) => process.stderr.write(line) }),
    modules: createServerModules({ env, cwd: work, offboarding: { onQueue: (heard) => (queue = heard) } }),
  });
  app = server.app;
  jobs = new OffboardingJobs(app.operational.db, systemClock);
  const { secret } = await createIdpCredential(app.operational.db, 'scim', { clock: systemClock, actor: 'bench' });
  const scim = scimClient(server.url, secret);
  // Provisioned as Okta does (not timed): POST /Users for everyone.
  const ids = new Map<string, string>();
  for (const person of generated.people) {
    const created = await scim('POST', '/Users', {
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
      userName: person.email,
      externalId: `okta-${person.login}`,
      emails: [{ primary: true, value: person.email, type: 'work' }],
      displayName: person.name,
      active: true,
    });
    if (created.status !== 201) throw new Error(`SCIM POST /Users answered ${created.status}`);
    ids.set(person.email, created.body.id);
  }
  departAll = async (people) => {
    await Promise.all(
      people.map(async (person) => {
        const answered = await scim('PATCH', `/Users/${ids.get(person.email)}`, {
          schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
          Operations: [{ op: 'replace', value: { active: false } }],
        });
        if (answered.status !== 200) throw new Error(`SCIM PATCH answered ${answered.status}`);
      }),
    );
    await queue!.idle();
  };
} else {
  app = await openKeyledgerApp({ registryDir: opened.working.registryDir, env, cwd: work, clock: systemClock });
  const workflow = createOffboardingWorkflow({
    db: app.operational.db,
    events: app.events,
    clock: systemClock,
    writer: app.writer,
    config: app.workspace.config,
    rotation: app.rotation({ actor: 'bench:offboarding' }),
    revoker: app.revoker(),
    identitySources: idps.sources(),
  });
  jobs = workflow.jobs;
  const directory = new MemoryDirectory(
    generated.people.map(
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
  departAll = async (people) => {
    await Promise.all(
      people.map((person) =>
        directory.apply({
          signalId: `bench:${person.login}`,
          source: 'scim',
          email: person.email,
          status: 'deprovisioned',
          at: new Date().toISOString(),
        }),
      ),
    );
  };
}
const rotation = app.rotation({ actor: 'bench:offboarding' });

/** The rate-limit bound of rotating these reports' keys: the slowest provider's keys x calls / its rate. */
async function boundOf(reports: OffboardingReport[]) {
  const entries = new Map((await rotation.loadEntries()).map((loaded) => [loaded.entry.key_id, loaded.entry]));
  const counts = new Map<string, number>();
  for (const report of reports)
    for (const step of report.done)
      if (step.step.startsWith('rotate:') && step.state === 'done') {
        const provider = entries.get(step.keyId!)?.scope?.provider ?? '?';
        counts.set(provider, (counts.get(provider) ?? 0) + 1);
      }
  const providers = Object.fromEntries(
    [...counts].map(([name, keys]) => {
      const provider = app.provider(name);
      const limit = provider.rateLimit();
      const rps = limit.requests / limit.perSeconds;
      return [
        name,
        {
          keys,
          requestsPerRotation: requestsPerRotation(provider),
          rps,
          boundSeconds: (keys * requestsPerRotation(provider)) / rps,
        },
      ];
    }),
  );
  return { providers, boundSeconds: Math.max(0, ...Object.values(providers).map((p) => p.boundSeconds)) };
}

/** Seconds from the signal to the last rotate step recorded. */
function toLastRotation(signalAt: number, reports: OffboardingReport[]): number {
  const last = Math.max(
    signalAt,
    ...reports.flatMap((report) =>
      report.done.filter((step) => step.step.startsWith('rotate:')).map((step) => Date.parse(step.at)),
    ),
  );
  return (last - signalAt) / 1000;
}

async function depart(people: typeof generated.people) {
  const started = Date.now();
  const startedPerf = performance.now();
  await departAll(people);
  const seconds = (performance.now() - startedPerf) / 1000;
  const reports = (await Promise.all(people.map((person) => jobs.get(person.email)))).map(
    (job) => job!.report as OffboardingReport,
  );
  const bound = await boundOf(reports);
  const rotated = reports.reduce((sum, report) => sum + report.counts.rotated, 0);
  return {
    leavers: people.length,
    keysFound: reports.reduce((sum, report) => sum + report.counts.found, 0),
    rotated,
    leftToAPerson: reports.reduce((sum, report) => sum + report.counts.left, 0),
    failed: reports.reduce((sum, report) => sum + report.counts.failed, 0),
    secondsToLastRotation: Number(toLastRotation(started, reports).toFixed(2)),
    secondsToAllDone: Number(seconds.toFixed(2)),
    boundSeconds: Number(bound.boundSeconds.toFixed(2)),
    ratio: bound.boundSeconds > 0 ? Number((seconds / bound.boundSeconds).toFixed(2)) : null,
    providers: bound.providers,
  };
}

try {
  // (A) One leaver with KEYS keys: an active person is made the owner of KEYS rotatable keys (set-up, not timed).
  const leaversEmails = new Set(generated.people.filter((p) => p.status === 'left').map((p) => p.email));
  const one = generated.people.find((person) => person.status === 'active')!;
  const theirs = opened.working.rotatable.filter(
    (key) => !leaversEmails.has(key.registryOwnerIndividual ?? '') && key.registryOwnerIndividual !== one.email,
  );
  for (const key of theirs.slice(0, keysForOne))
    await app.writer.update(
      key.keyId,
      { owner_individual: one.email },
      { message: 'bench: one leaver with many keys' },
    );
  log(`(A) one leaver with ${Math.min(keysForOne, theirs.length)} keys...`);
  const single = await depart([one]);
  log(`(B) all ${leaversEmails.size} leavers at once...`);
  const all = await depart(generated.people.filter((person) => person.status === 'left'));
  const result = {
    org,
    rateLimits,
    via,
    machine: { cpus: cpus().length, node: process.version, loadavg: loadavg().map((l) => Number(l.toFixed(2))) },
    oneLeaver: single,
    allLeavers: all,
    consumerFailures: opened.working.consumer.stats().failures,
    commits: Number(
      execFileSync('git', ['rev-list', '--count', 'HEAD'], { cwd: opened.working.registryDir }).toString(),
    ),
  };
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  log(
    `\n(A) 1 leaver, ${single.rotated} keys rotated in ${single.secondsToAllDone}s (bound ${single.boundSeconds}s, ${single.ratio}x)` +
      `\n(B) ${all.leavers} leavers, ${all.rotated} keys rotated in ${all.secondsToAllDone}s (bound ${all.boundSeconds}s, ${all.ratio}x); ${all.leftToAPerson} left to a person, ${all.failed} failed; consumer failures ${result.consumerFailures}`,
  );
} finally {
  if (server) await server.close();
  else await app.close();
  await idps.stop();
  await opened.working.stop();
  await rm(work, { recursive: true, force: true });
}
