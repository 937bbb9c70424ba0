// Kubernetes Secrets and External Secrets Operator ExternalSecrets, through the API server: `GET /api/v1/secrets`
// (every namespace, or one) read in chunks of 500 (`limit`, `continue`), each data value base64-decoded, matched to
// the registry by fingerprint and dropped; and `GET /apis/external-secrets.io/v1beta1/externalsecrets`, whose
// `spec.data[].remoteRef.key` names the store path a key is synced from (matched to entries' `storage`) and whose
// Ready condition says whether the sync works. Service-account tokens are the cluster's own, not API keys: skipped.

import { getJson } from '../discovery-http.js';
import type { DiscoverySource, SecretObservation } from '../discovery-source.js';
import { requiredOption, SECRET_LIKE_NAME, tokenFromEnv } from '../discovery-source.js';

const CHUNK = 500;
const SKIPPED_TYPES = new Set(['kubernetes.io/service-account-token', 'bootstrap.kubernetes.io/token']);

type KubeObject = Record<string, unknown> & { metadata?: Record<string, unknown> };

export const kubernetesDiscoverySource: DiscoverySource = {
  name: 'kubernetes',
  description: 'Kubernetes Secrets (values matched by fingerprint, never kept) and ExternalSecret sync status',
  options: {
    url: { description: 'the API server, e.g. https://k8s.example.com:6443', required: true },
    namespace: { description: 'only this namespace (default: every namespace the token may list)' },
    'external-secrets': { description: 'read ExternalSecrets too: yes (default) or no' },
    'token-env': { description: 'the environment variable holding the bearer token (default KUBE_TOKEN)' },
  },
  async *observe(context) {
    const base = requiredOption(context, 'url').replace(/\/+$/, '');
    const headers = { authorization: `Bearer ${tokenFromEnv(context, 'KUBE_TOKEN')}` };
    const ns = context.options.namespace;
    const scoped = (group: string, plural: string) =>
      `${base}${group}${ns ? `/namespaces/${encodeURIComponent(ns)}` : ''}/${plural}`;
    for await (const secret of listAll(scoped('/api/v1', 'secrets'), headers)) {
      const meta = secret.metadata ?? {};
      const type = typeof secret.type === 'string' ? secret.type : 'Opaque';
      if (SKIPPED_TYPES.has(type)) continue;
      const owner = Array.isArray(meta.ownerReferences)
        ? (meta.ownerReferences as Array<Record<string, unknown>>).find((o) => o.kind === 'ExternalSecret')
        : undefined;
      const data =
        typeof secret.data === 'object' && secret.data !== null ? (secret.data as Record<string, unknown>) : {};
      for (const [name, encoded] of Object.entries(data)) {
        if (typeof encoded !== 'string') continue;
        const keyId = context.matchSecret(Buffer.from(encoded, 'base64').toString('utf8').trim());
        if (!keyId && !SECRET_LIKE_NAME.test(name)) continue;
        const observation: SecretObservation = {
          location: `${String(meta.namespace)}/${String(meta.name)}`,
          name,
          ...(typeof meta.creationTimestamp === 'string' ? { createdAt: iso(meta.creationTimestamp) } : {}),
          ...(keyId ? { keyId } : {}),
          detail: { kind: 'Secret', type, ...(owner ? { externalSecret: String(owner.name) } : {}) },
        };
        yield observation;
      }
    }
    if (context.options['external-secrets'] === 'no') return;
    for await (const es of listAll(scoped('/apis/external-secrets.io/v1beta1', 'externalsecrets'), headers)) {
      const meta = es.metadata ?? {};
      const spec = (es.spec ?? {}) as Record<string, unknown>;
      const status = (es.status ?? {}) as Record<string, unknown>;
      const ready = Array.isArray(status.conditions)
        ? (status.conditions as Array<Record<string, unknown>>).find((c) => c.type === 'Ready')
        : undefined;
      const target = ((spec.target ?? {}) as Record<string, unknown>).name ?? meta.name;
      for (const item of Array.isArray(spec.data) ? (spec.data as Array<Record<string, unknown>>) : []) {
        const remote = (item.remoteRef ?? {}) as Record<string, unknown>;
        if (typeof item.secretKey !== 'string' || typeof remote.key !== 'string') continue;
        const observation: SecretObservation = {
          location: `externalsecret ${String(meta.namespace)}/${String(meta.name)}`,
          name: item.secretKey,
          storePath: remote.key,
          ...(typeof meta.creationTimestamp === 'string' ? { createdAt: iso(meta.creationTimestamp) } : {}),
          ...(typeof status.refreshTime === 'string' ? { updatedAt: iso(status.refreshTime) } : {}),
          detail: {
            kind: 'ExternalSecret',
            target: String(target),
            remoteKey: remote.key,
            ready: ready?.status === 'True',
            reason: typeof ready?.reason === 'string' ? ready.reason : null,
          },
        };
        yield observation;
      }
    }
  },
};

/** Every item of a list, chunk by chunk; a 404 (the ExternalSecret CRD not installed) lists nothing. */
async function* listAll(url: string, headers: Record<string, string>): AsyncIterable<KubeObject> {
  let cont: string | undefined;
  do {
    const query = new URLSearchParams({ limit: String(CHUNK) });
    if (cont) query.set('continue', cont);
    const answer = await getJson(`${url}?${query}`, headers, {
      what: `Kubernetes (${new URL(url).pathname})`,
      acceptStatus: [404],
      describe: (body) => {
        const message = (body as { message?: unknown } | undefined)?.message;
        return typeof message === 'string' ? message : undefined;
      },
    });
    if (answer.status === 404) return;
    const body = (answer.body ?? {}) as { items?: unknown; metadata?: { continue?: unknown } };
    for (const item of Array.isArray(body.items) ? body.items : []) {
      if (typeof item === 'object' && item !== null) yield item as KubeObject;
    }
    cont =
      typeof body.metadata?.continue === 'string' && body.metadata.continue !== '' ? body.metadata.continue : undefined;
  } while (cont);
}

function iso(value: string): string {
  const ms = Date.parse(value);
  return Number.isFinite(ms) ? new Date(ms).toISOString() : value;
}
