// The Kubernetes source against the Kubernetes API sandbox over real HTTP: secrets in chunks, values matched by
// fingerprint and never reported, service-account tokens skipped, ExternalSecrets' remote keys and readiness,
// 429 honoured, 401 reported as the API's Status message.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type StartedKubernetesSandbox, startKubernetesSandbox } from '../../sandbox/kubernetes/kubernetes-sandbox.js';
import { observeAll, summarise } from '../test-support/discovery-source-harness.js';
import { kubernetesDiscoverySource } from './kubernetes-discovery-source.js';

const STRIPE = 'sk_live_CANARYkube000000000000000000';
const SLACK = 'xoxb-CANARY-kube-1111111111-2222222222';
let kube: StartedKubernetesSandbox;
const env = () => ({ KUBE_TOKEN: kube.sandbox.token });

beforeAll(async () => {
  kube = await startKubernetesSandbox();
  const k = kube.sandbox;
  k.addSecret({
    namespace: 'payments',
    name: 'stripe',
    data: { STRIPE_KEY: STRIPE, MODE: 'live' },
    createdAt: '2026-01-05T10:00:00.000Z',
  });
  k.addSecret({
    namespace: 'chat',
    name: 'slack-bot',
    data: { token: SLACK },
    ownedByExternalSecret: 'slack-bot',
  });
  k.addSecret({
    namespace: 'chat',
    name: 'default-token',
    type: 'kubernetes.io/service-account-token',
    data: { token: 'sa-token' },
  });
  k.addSecret({ namespace: 'chat', name: 'unknown', data: { API_TOKEN: 'not-registered', color: 'blue' } });
  for (let i = 0; i < 520; i += 1)
    k.addSecret({ namespace: 'bulk', name: `cfg-${String(i).padStart(3, '0')}`, data: { setting: 'x' } });
  k.addExternalSecret({
    namespace: 'chat',
    name: 'slack-bot',
    target: 'slack-bot',
    secretStore: 'vault',
    data: [{ secretKey: 'token', remoteRef: { key: 'chat/slack-bot' } }],
    ready: true,
    refreshTime: '2026-12-01T00:00:00.000Z',
  });
  k.addExternalSecret({
    namespace: 'payments',
    name: 'adyen',
    target: 'adyen',
    secretStore: 'vault',
    data: [{ secretKey: 'API_KEY', remoteRef: { key: 'payments/adyen', property: 'value' } }],
    ready: false,
  });
});
afterAll(() => kube.close());

describe('kubernetes discovery source', () => {
  it('matches Secret values by fingerprint and lists ExternalSecrets with their remote keys and readiness', async () => {
    const seen = await observeAll(
      kubernetesDiscoverySource,
      { url: kube.url },
      { 'payments-stripe': STRIPE, 'chat-slack': SLACK },
      env(),
    );
    expect(summarise(seen)).toEqual([
      'chat/slack-bot token -> chat-slack',
      'chat/unknown API_TOKEN -> -',
      'externalsecret chat/slack-bot token -> -',
      'externalsecret payments/adyen API_KEY -> -',
      'payments/stripe STRIPE_KEY -> payments-stripe',
    ]);
    expect(seen.find((o) => o.location === 'chat/slack-bot')?.detail).toEqual({
      kind: 'Secret',
      type: 'Opaque',
      externalSecret: 'slack-bot',
    });
    expect(seen.find((o) => o.location === 'payments/stripe')?.createdAt).toBe('2026-01-05T10:00:00.000Z');
    expect(seen.find((o) => o.location === 'externalsecret payments/adyen')).toMatchObject({
      storePath: 'payments/adyen',
      detail: { ready: false, reason: 'SecretSyncedError', target: 'adyen' },
    });
    expect(seen.find((o) => o.location === 'externalsecret chat/slack-bot')).toMatchObject({
      storePath: 'chat/slack-bot',
      updatedAt: '2026-12-01T00:00:00.000Z',
      detail: { ready: true },
    });
    // 524 secrets: two chunks of 500.
    expect(kube.server.requestCounts()['kubernetes:list secrets']).toBeGreaterThanOrEqual(2);
  });

  it('reads one namespace when asked, and waits out a 429', async () => {
    kube.server.faults.add({
      operation: 'kubernetes:list secrets',
      kind: 'rate-limit',
      retryAfterSeconds: 0,
      times: 1,
    });
    const seen = await observeAll(
      kubernetesDiscoverySource,
      { url: kube.url, namespace: 'payments', 'external-secrets': 'no' },
      {},
      env(),
    );
    expect(summarise(seen)).toEqual(['payments/stripe STRIPE_KEY -> -']);
  });

  it("reports a refused token with the API's Status message", async () => {
    const failure = observeAll(kubernetesDiscoverySource, { url: kube.url }, {}, { KUBE_TOKEN: 'stolen-but-wrong' });
    await expect(failure).rejects.toThrow(/401: Unauthorized/);
    await expect(failure).rejects.not.toThrow(/stolen-but-wrong/);
  });
});
