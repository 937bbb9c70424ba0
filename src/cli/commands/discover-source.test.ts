// `keyledger discover --source NAME` end to end through the CLI: a registry whose entries carry fingerprints, a
// folder of .env files and a Kubernetes API sandbox; the JSON output ties each place to its entry, a second run
// after a secret is deleted marks it gone, a wrong option is a usage error before anything opens, and no planted
// secret reaches stdout or stderr.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GIT_TEST_ENV, makeRegistry, seedExampleWith } from '../../registry/test-support/registry-fixtures.js';
import { type StartedKubernetesSandbox, startKubernetesSandbox } from '../../sandbox/kubernetes/kubernetes-sandbox.js';
import { fingerprintSecret } from '../../secrets/secret-fingerprint.js';
import { runCli } from '../test-support/run-cli.js';

const KEY = Buffer.alloc(32, 9);
const STRIPE = 'sk_live_CANARYcliSource000000000000';
const SLACK = 'xoxb-CANARY-cli-3333333333-4444444444';

let registry: string;
let env: NodeJS.ProcessEnv;
let kube: StartedKubernetesSandbox;
let dotenvDir: string;

beforeAll(async () => {
  const fingerprint = (secret: string) => fingerprintSecret(secret, { version: 'v1', key: KEY });
  registry = await makeRegistry(
    {
      'keys/payments-stripe.yaml': `${seedExampleWith('payments-stripe-live-001')}fingerprint: "${fingerprint(STRIPE)}"\n`,
      'keys/chat-slack.yaml': `${seedExampleWith('chat-slack-bot-001', [
        ['provider: stripe', 'provider: slack'],
        ['secret/payments/stripe-live', 'chat/slack-bot'],
      ])}fingerprint: "${fingerprint(SLACK)}"\n`,
    },
    { git: true },
  );
  env = {
    ...GIT_TEST_ENV,
    KEYLEDGER_DATA_DIR: mkdtempSync(join(tmpdir(), 'keyledger-data-')),
    KEYLEDGER_FINGERPRINT_KEY: KEY.toString('base64'),
  };
  dotenvDir = mkdtempSync(join(tmpdir(), 'keyledger-dotenv-cli-'));
  writeFileSync(join(dotenvDir, '.env'), `STRIPE_SECRET_KEY=${STRIPE}\n`);
  kube = await startKubernetesSandbox();
  kube.sandbox.addSecret({ namespace: 'chat', name: 'slack', data: { token: SLACK } });
  kube.sandbox.addExternalSecret({
    namespace: 'chat',
    name: 'slack',
    target: 'slack',
    secretStore: 'vault',
    data: [{ secretKey: 'token', remoteRef: { key: 'chat/slack-bot' } }],
    ready: true,
  });
});
afterAll(() => kube.close());

const run = (args: string[], extraEnv: NodeJS.ProcessEnv = {}) =>
  runCli(['discover', '--registry', registry, ...args], {
    cwd: registry,
    env: { ...env, ...extraEnv },
    now: '2026-12-07T00:00:00Z',
  });

describe('keyledger discover --source', () => {
  it('ties .env variables and Kubernetes secrets to their entries, and never prints a value', async () => {
    const dotenv = await run(['--source', 'dotenv', '--source-option', `path=${dotenvDir}`, '--json']);
    expect(dotenv.code).toBe(0);
    const parsed = JSON.parse(dotenv.stdout);
    expect(parsed.source).toMatchObject({ source: 'dotenv', observed: 1, matched: 1 });
    expect(parsed.observations.map((o: { name: string; key_id: string }) => `${o.name}->${o.key_id}`)).toEqual([
      'STRIPE_SECRET_KEY->payments-stripe-live-001',
    ]);

    const kubernetes = await run(['--source', 'kubernetes', '--source-option', `url=${kube.url}`, '--json'], {
      KUBE_TOKEN: kube.sandbox.token,
    });
    expect(kubernetes.code).toBe(0);
    const observations = JSON.parse(kubernetes.stdout).observations as Array<{ location: string; key_id: string }>;
    expect(observations.map((o) => `${o.location}->${o.key_id}`)).toEqual([
      'chat/slack->chat-slack-bot-001',
      'externalsecret chat/slack->chat-slack-bot-001',
    ]);
    for (const output of [dotenv, kubernetes]) {
      expect(output.stdout + output.stderr).not.toContain(STRIPE);
      expect(output.stdout + output.stderr).not.toContain(SLACK);
    }
  });

  it('marks a deleted .env gone on the next run, and prints a table without --json', async () => {
    rmSync(join(dotenvDir, '.env'));
    const again = await run(['--source', 'dotenv', '--source-option', `path=${dotenvDir}`]);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/dotenv\s+0\s+0\s+0\s+1\s/);
  });

  it('refuses an unknown source or option before opening anything, as a JSON error', async () => {
    const unknown = await run(['--source', 'dropbox', '--json']);
    expect(unknown.code).toBe(2);
    expect(JSON.parse(unknown.stdout).error.message).toMatch(/unknown discovery source dropbox/);
    const option = await run([
      '--source',
      'kubernetes',
      '--source-option',
      'url=http://x',
      '--source-option',
      'token=abc',
      '--json',
    ]);
    expect(JSON.parse(option.stdout).error.message).toMatch(/takes no option token/);
    const missing = await run(['--source', 'kubernetes', '--json']);
    expect(JSON.parse(missing.stdout).error.message).toMatch(/needs --source-option url=/);
  });

  it("exits 2 with the API's reason when the source fails", async () => {
    const refused = await run(['--source', 'kubernetes', '--source-option', `url=${kube.url}`, '--json'], {
      KUBE_TOKEN: 'wrong',
    });
    expect(refused.code).toBe(2);
    expect(JSON.parse(refused.stdout).source.error.message).toMatch(/401: Unauthorized/);
  });
});
