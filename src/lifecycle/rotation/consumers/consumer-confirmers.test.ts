// The consumer confirmers against real things: a command hook (a shell script, exit codes 0 / 75 / other), an
// ExternalSecret read from a local server speaking the Kubernetes API path, and the grace period.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { fixedClock } from '../../../runtime/clock.js';
import { CommandHookConfirmer } from './command-hook/command-hook-confirmer.js';
import type { ExpectedKeyVersion } from './consumer-confirmer.js';
import { ExternalSecretConfirmer } from './external-secret/external-secret-confirmer.js';
import { GracePeriodConfirmer } from './grace-period/grace-period-confirmer.js';

const expected: ExpectedKeyVersion = {
  keyId: 'k1',
  rotationId: 'r1',
  versionId: '7',
  providerKeyId: 'ik_1',
  fingerprint: 'hmac-sha256:v1:' + '0'.repeat(64),
  storedAt: new Date('2026-11-23T12:00:00Z'),
};

let kube: Server;
let kubeUrl = '';
let externalSecret: unknown = {};
let seenAuth = '';
beforeAll(async () => {
  kube = createServer((req, res) => {
    seenAuth = req.headers.authorization ?? '';
    if (req.url === '/apis/external-secrets.io/v1beta1/namespaces/payments/externalsecrets/stripe') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(externalSecret));
    } else {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ kind: 'Status', reason: 'NotFound' }));
    }
  });
  await new Promise<void>((resolve) => kube.listen(0, '127.0.0.1', () => resolve()));
  kubeUrl = `http://127.0.0.1:${(kube.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => kube.close(() => resolve())));

it('command hook: exit 0 confirms, 75 waits, anything else fails; it sees the version, never a secret', async () => {
  const confirmer = new CommandHookConfirmer({ PATH: process.env.PATH });
  const probe = (script: string) => ({
    name: 'svc',
    kind: 'command',
    settings: { kind: 'command', command: ['sh', '-c', script] },
    consumer: 'svc',
  });
  expect((await confirmer.check(probe('test "$KEYLEDGER_VERSION_ID" = 7 && echo on 7'), expected)).state).toBe(
    'confirmed',
  );
  expect((await confirmer.check(probe('echo still on 6; exit 75'), expected)).state).toBe('waiting');
  const failed = await confirmer.check(probe('echo broken >&2; exit 3'), expected);
  expect(failed).toMatchObject({ state: 'failed' });
  expect(failed.detail).toContain('broken');
  expect((await confirmer.check(probe('env | grep -c SECRET || true'), expected)).state).toBe('confirmed');
});

it('ExternalSecret: confirmed once Ready and synced after the new version was stored, with a bearer token', async () => {
  const confirmer = new ExternalSecretConfirmer({ KUBE_TOKEN: 'sa-token' });
  const probe = {
    name: 'payments/stripe',
    kind: 'external-secret',
    settings: { name: 'stripe', namespace: 'payments', api_server: kubeUrl, token_env: 'KUBE_TOKEN' },
    consumer: 'x',
  };
  externalSecret = {
    status: {
      refreshTime: '2026-11-23T11:59:00Z',
      syncedResourceVersion: '1-abc',
      conditions: [{ type: 'Ready', status: 'True', reason: 'SecretSynced' }],
    },
  };
  expect((await confirmer.check(probe, expected)).state).toBe('waiting');
  externalSecret = {
    status: {
      refreshTime: '2026-11-23T12:00:30Z',
      syncedResourceVersion: '1-def',
      conditions: [{ type: 'Ready', status: 'True', reason: 'SecretSynced' }],
    },
  };
  const confirmed = await confirmer.check(probe, expected);
  expect(confirmed.state).toBe('confirmed');
  expect(confirmed.detail).toContain('1-def');
  expect(seenAuth).toBe('Bearer sa-token');
  expect((await confirmer.check({ ...probe, settings: { ...probe.settings, name: 'missing' } }, expected)).state).toBe(
    'failed',
  );
});

it('grace period: waits, then confirms', async () => {
  const clock = fixedClock('2026-11-23T12:00:10Z');
  const confirmer = new GracePeriodConfirmer(clock);
  const probe = { name: 'cron', kind: 'grace', settings: { seconds: 60 }, consumer: 'cron' };
  expect((await confirmer.check(probe, expected)).state).toBe('waiting');
  clock.set('2026-11-23T12:01:00Z');
  expect((await confirmer.check(probe, expected)).state).toBe('confirmed');
});
