// The server half of `keyledger start` over the small sandbox organisation: the admin token from its 0600 file
// reads the organisation through the API and starts a rotation there, and the controller running beside the server
// drives to its end a rotation an earlier run left planned in the journal (it resumes at start, as
// `keyledger controller` does).
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { openKeyledgerApp } from '../../app/keyledger-app.js';
import { systemClock } from '../../runtime/clock.js';
import { serverConfigSchema } from '../../server/server-config.js';
import { createLogger } from '../../telemetry/logger.js';
import { type OpenedOrganisation, openOrganisation } from './start.js';
import { type StartedServer, startServerAndController } from './start-server.js';

let work: string;
let opened: OpenedOrganisation;
let started: StartedServer | undefined;
let plannedRotation: { rotationId: string; keyId: string };
const logs: string[] = [];

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'keyledger-start-server-'));
  opened = await openOrganisation({
    org: 'small',
    seed: 3,
    dir: join(work, 'sandbox'),
    rateLimits: 'off',
    env: {},
    cwd: work,
    clock: systemClock,
    consumer: { refreshMs: 60_000, callMs: 1_000 },
  });
  // A rotation an earlier run planned and never drove: the controller must pick it up when it starts.
  const keyId = opened.working.rotatable[0]!.keyId;
  const app = await openKeyledgerApp({
    registryDir: opened.working.registryDir,
    env: opened.exports,
    cwd: work,
    clock: systemClock,
  });
  try {
    const { row } = await app.rotation().rotator.plan(keyId, 'manual');
    plannedRotation = { rotationId: row.rotation_id, keyId };
  } finally {
    await app.close();
  }
  started = await startServerAndController(opened, {
    config: serverConfigSchema.parse({ port: 0, logLevel: 'info' }),
    env: {},
    cwd: work,
    clock: systemClock,
    logger: createLogger({ level: 'info', write: (line) => logs.push(line) }),
    schedule: '0 2 * * *',
  });
}, 300_000);

afterAll(async () => {
  await started?.stop();
  await opened?.working.stop();
  await rm(work, { recursive: true, force: true });
});

it('serves the organisation to the admin token kept in the data folder, and the controller resumes the journal', async () => {
  const { running, adminToken } = started!;
  const token = (await readFile(adminToken.file, 'utf8')).trim();
  // biome-ignore lint/suspicious/noExplicitAny: the API's JSON, read field by field.
  const call = async (path: string, init: RequestInit = {}): Promise<{ json(): Promise<any> }> =>
    fetch(`${running.url}/api/v1${path}`, {
      ...init,
      headers: { authorization: `Bearer ${token}`, ...(init.headers as Record<string, string>) },
    });
  const page = await (await call('/keys?limit=500')).json();
  expect(page.items.length).toBeGreaterThan(10);
  const teams = await (await call('/teams')).json();
  expect(teams.items.length).toBeGreaterThan(1);

  await expect
    .poll(async () => (await (await call(`/rotations/${plannedRotation.rotationId}`)).json()).rotation.state, {
      timeout: 120_000,
      interval: 1_000,
    })
    .toBe('done');
  const history = await (await call(`/keys/${plannedRotation.keyId}/history`)).json();
  expect(history.items.map((event: { type: string }) => event.type)).toContain('rotated');
  expect(logs.join('\n')).not.toContain(token);
}, 180_000);
