// `/metrics` over the sandbox organisation `keyledger start` brings up (the small profile), on both engines: a real
// rotation, recorded findings (one settled by that rotation, one pending), an unauthorized use and a failed
// rotation in the journal, scraped over real HTTP from a bare Fastify on port 0. The scrape passes
// `promtool check metrics`, carries the values those rows imply, and holds no secret, fingerprint or provider key
// id anywhere (the canaries are the organisation's own secrets).
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type KeyledgerApp, openKeyledgerApp } from '../app/keyledger-app.js';
import { type OpenedOrganisation, openOrganisation } from '../cli/commands/start.js';
import { forEachBackend } from '../db/test-support/test-databases.js';
import { RotationMetrics } from '../lifecycle/rotation/rotation-metrics.js';
import { systemClock } from '../runtime/clock.js';
import type { ServerContext, ServerModule } from '../server/server-module.js';
import { ControllerHeartbeat } from './controller-heartbeat.js';
import { silentLogger } from './logger.js';
import { createMetricsModule, metricsModule } from './metrics-server-module.js';
import { promtool } from './test-support/promtool.js';

let work: string;
let opened: OpenedOrganisation;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'keyledger-metrics-'));
  opened = await openOrganisation({
    org: 'small',
    seed: 3,
    dir: join(work, 'sandbox'),
    rateLimits: 'off',
    env: {},
    cwd: work,
    clock: systemClock,
  });
}, 300_000);

afterAll(async () => {
  await opened?.working.stop();
  await rm(work, { recursive: true, force: true });
});

/** A sample's value from an exposition, by name and exact label text (`{a="b"}`), or undefined. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

it('fits the ServerModule contract', () => {
  const module: ServerModule = metricsModule;
  expect(module.name).toBe('metrics');
});

forEachBackend((backend) => {
  let app: KeyledgerApp;
  let server: FastifyInstance;
  let url: string;
  const heartbeat = new ControllerHeartbeat();
  // The process's own rotation counters, as the server's controller keeps them.
  const rotationMetrics = new RotationMetrics();

  beforeAll(async () => {
    const database = await backend.createDatabase();
    app = await openKeyledgerApp({
      registryDir: opened.working.registryDir,
      env: {
        ...opened.exports,
        ...(database.options.databaseUrl ? { KEYLEDGER_DATABASE_URL: database.options.databaseUrl } : {}),
      },
      cwd: work,
      clock: systemClock,
    });
    server = Fastify();
    const context: ServerContext = { app, clock: systemClock, logger: silentLogger, publicUrl: 'http://127.0.0.1' };
    await createMetricsModule({
      heartbeat,
      registries: [rotationMetrics.registry],
      checkEveryMs: 50,
      maxAgeMs: 60_000,
    }).register(server, context);
    url = `${await server.listen({ port: 0, host: '127.0.0.1' })}/metrics`;
  }, 120_000);

  afterAll(async () => {
    await server?.close();
    await app?.close();
  });

  /** Scrapes until `ready` holds (the exposition is rebuilt in the background after each change). */
  async function scrapeUntil(ready: (text: string) => boolean): Promise<string> {
    const deadline = Date.now() + 60_000;
    for (;;) {
      const response = await fetch(url);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toContain('text/plain; version=0.0.4');
      const text = await response.text();
      if (ready(text) || Date.now() > deadline) return text;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  it('serves the registry, the journal, findings and anomalies, and passes promtool check metrics', async () => {
    const keyIndex = backend.dialect === 'sqlite' ? 0 : 1;
    const rotated = opened.working.rotatable[keyIndex]!;
    const other = opened.working.rotatable[keyIndex + 2]!;
    const provider = rotated.provider;
    const before = await scrapeUntil(() => true);
    expect(sample(before, `api_key_rotation_success_total{provider="${provider}"}`)).toBeUndefined();

    // A finding on the key about to rotate (settled by the rotation) and one on another key (pending).
    await app.events.append({ type: 'finding', actor: 'scan:test', keyId: rotated.keyId, data: { rule: 'r1' } });
    await app.events.append({
      type: 'finding',
      actor: 'scan:test',
      keyId: other.keyId,
      data: { rule: 'r2', repo: 'acme/web', scanner: 'gitleaks' },
    });
    const outcome = await app
      .rotation({ actor: 'test', metrics: rotationMetrics })
      .rotator.rotate(rotated.keyId, 'manual');
    rotationMetrics.ticketsOpened.inc({ sink: 'markdown' });
    expect(outcome.status).toBe('done');
    const now = new Date().toISOString();
    await app.operational.db
      .insertInto('audit_anomalies')
      .values({
        kind: 'revoked-key-used',
        provider: other.provider,
        credential: 'credential-id',
        source: '203.0.113.7',
        key_id: other.keyId,
        owner_team: null,
        detail: '{}',
        count: 3,
        first_at: now,
        last_at: now,
      })
      .execute();
    // A rotation that ended failed (the rotator's own failure paths are src/lifecycle/rotation/'s tests).
    await app.operational.db
      .insertInto('rotation_journal')
      .values({
        rotation_id: `failed-${backend.dialect}`,
        key_id: other.keyId,
        provider: other.provider,
        account: null,
        trigger: 'manual',
        state: 'failed',
        store: 'vault',
        path: 'kv/x',
        old_provider_key_id: null,
        new_key_name: 'x.rot-1',
        new_provider_key_id: null,
        new_version_id: null,
        fingerprint: null,
        failure: 'consumer probe timed out',
        rollback_reason: 'consumer-timeout',
        attempts: 1,
        lease_owner: null,
        lease_expires_at: null,
        not_before: null,
        state_entered_at: now,
        created_at: now,
        updated_at: now,
      })
      .execute();
    heartbeat.beat(new Date());

    const text = await scrapeUntil(
      (candidate) =>
        sample(candidate, `api_key_rotation_success_total{provider="${provider}"}`) === 1 &&
        sample(candidate, `api_key_unauthorized_use_detected_total{key_id="${other.keyId}"}`) === 3 &&
        sample(candidate, 'api_key_rotation_failure_total{reason="consumer-timeout"}') === 1 &&
        sample(candidate, 'api_key_rotation_tickets_opened_total{sink="markdown"}') === 1 &&
        candidate.includes('keyledger_controller_heartbeat_timestamp_seconds '),
    );
    expect(sample(text, `api_key_rotation_success_total{provider="${provider}"}`)).toBe(1);
    expect(sample(text, `api_key_unauthorized_use_detected_total{key_id="${other.keyId}"}`)).toBe(3);
    expect(sample(text, 'api_key_rotation_failure_total{reason="consumer-timeout"}')).toBe(1);
    // From the process's registry: what only it knows; the journal's count is not doubled by its own.
    expect(sample(text, 'api_key_rotation_tickets_opened_total{sink="markdown"}')).toBe(1);
    expect(text.match(/^# TYPE api_key_rotation_success_total /gm)).toHaveLength(1);
    expect(sample(text, 'api_key_secret_scanner_findings_total{repo="unknown",scanner="keyledger"}')).toBe(1);
    expect(sample(text, 'api_key_secret_scanner_findings_total{repo="acme/web",scanner="gitleaks"}')).toBe(1);
    // The rotated key's finding is settled; the other key's waits.
    expect(sample(text, 'api_key_secret_scanner_findings_pending{repo="unknown",scanner="keyledger"}')).toBeUndefined();
    expect(sample(text, 'api_key_secret_scanner_findings_pending{repo="acme/web",scanner="gitleaks"}')).toBe(1);
    // The rotated key is young again; its registry entry says so.
    const age = text.split('\n').find((line) => line.startsWith(`api_key_age_seconds{key_id="${rotated.keyId}"`));
    expect(Number(age?.split(' ')[1])).toBeLessThan(600);
    const registered = text
      .split('\n')
      .filter((line) => line.startsWith('api_key_registered{'))
      .reduce((sum, line) => sum + Number(line.split(' ')[1]), 0);
    expect(registered).toBe(opened.where.keys.registered);
    expect(text).toMatch(/^api_key_due_for_rotation\{trigger="[a-z-]+"/m);

    if (process.env.KEYLEDGER_METRICS_DUMP) await writeFile(process.env.KEYLEDGER_METRICS_DUMP, text);
    const checked = await promtool(['check', 'metrics'], text);
    expect(checked.stdout + checked.stderr).toBe('');
    expect(checked.code).toBe(0);

    // Canaries: the organisation's secrets, and every fingerprint and provider key id the registry holds.
    const entries = await app.rotation().loadEntries();
    const canaries = [
      ...opened.working.rotatable.map((key) => key.secret),
      ...opened.working.manual.map((key) => key.secret),
      ...entries.flatMap(({ entry }) => [entry.fingerprint, entry.provider_key_id]),
    ].filter((value): value is string => typeof value === 'string' && value.length >= 8);
    expect(canaries.length).toBeGreaterThan(opened.where.keys.registered);
    const leaked = canaries.filter((canary) => text.includes(canary));
    expect(leaked).toEqual([]);
  }, 180_000);

  it('answers gzip to a scraper that asks for it, with the same body', async () => {
    const plain = await (await fetch(url)).text();
    const response = await fetch(url, { headers: { 'accept-encoding': 'gzip' } });
    expect(response.headers.get('content-encoding')).toBe('gzip');
    // fetch (undici) decompresses a gzip body itself.
    expect(await response.text()).toBe(plain);
  });
});
