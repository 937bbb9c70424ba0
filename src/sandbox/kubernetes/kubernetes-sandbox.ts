// A local Kubernetes API server for what discovery reads: `GET /api/v1/secrets` (all namespaces) and
// `/api/v1/namespaces/{ns}/secrets`, and the External Secrets Operator's `GET /apis/external-secrets.io/v1beta1/
// externalsecrets` (and namespaced), with bearer-token auth, list chunking (`limit` and `continue`, the token in
// `metadata.continue`) and errors as `Status` objects (401 Unauthorized, 403 Forbidden, 410 Expired, 429
// TooManyRequests with Retry-After), as the Kubernetes API reference documents them. Secret data is base64, as
// the API returns it.
import { randomUUID } from 'node:crypto';
import type { Clock } from '../../runtime/clock.js';
import { systemClock } from '../../runtime/clock.js';
import { bearerToken } from '../sandbox-credentials.js';
import { SandboxPathRouter } from '../sandbox-path-router.js';
import type { SandboxAnswer, SandboxProvider, SandboxRequest, SandboxRouteMatch } from '../sandbox-server.js';
import { SandboxServer } from '../sandbox-server.js';

export interface KubernetesSecretSpec {
  namespace: string;
  name: string;
  type?: string;
  /** Plain values; the sandbox stores and serves them base64-encoded as the API does. */
  data: Record<string, string>;
  labels?: Record<string, string>;
  /** Set for Secrets an ExternalSecret created (its `ownerReferences`). */
  ownedByExternalSecret?: string;
  createdAt?: string;
}

export interface ExternalSecretSpec {
  namespace: string;
  name: string;
  /** `spec.target.name`: the Secret it writes. */
  target: string;
  secretStore: string;
  data: Array<{ secretKey: string; remoteRef: { key: string; property?: string } }>;
  ready: boolean;
  /** `status.conditions[Ready].reason`, e.g. `SecretSynced`, `SecretSyncedError`. */
  reason?: string;
  refreshTime?: string;
  createdAt?: string;
}

interface StoredObject {
  namespace: string;
  name: string;
  resourceVersion: number;
  body: Record<string, unknown>;
}

export class KubernetesSandbox implements SandboxProvider {
  readonly name = 'kubernetes';
  readonly token: string;
  readonly #clock: Clock;
  readonly #router = new SandboxPathRouter();
  readonly #secrets: StoredObject[] = [];
  readonly #externalSecrets: StoredObject[] = [];
  readonly #audit: Array<{ time: string; verb: string; path: string; code: number }> = [];
  #resourceVersion = 1000;

  constructor(options: { clock?: Clock; token?: string } = {}) {
    this.#clock = options.clock ?? systemClock;
    this.token = options.token ?? `k8s-sandbox-${randomUUID()}`;
    const r = this.#router;
    r.add('GET', '/api/v1/secrets', 'kubernetes:list secrets', (req) => this.#list(req, this.#secrets, 'SecretList'));
    r.add('GET', '/api/v1/namespaces/:ns/secrets', 'kubernetes:list secrets', (req, p) =>
      this.#list(req, this.#secrets, 'SecretList', p.ns),
    );
    const es = '/apis/external-secrets.io/v1beta1';
    r.add('GET', `${es}/externalsecrets`, 'kubernetes:list externalsecrets', (req) =>
      this.#list(req, this.#externalSecrets, 'ExternalSecretList'),
    );
    r.add('GET', `${es}/namespaces/:ns/externalsecrets`, 'kubernetes:list externalsecrets', (req, p) =>
      this.#list(req, this.#externalSecrets, 'ExternalSecretList', p.ns),
    );
  }

  addSecret(spec: KubernetesSecretSpec): void {
    const created = spec.createdAt ?? this.#clock().toISOString();
    const version = this.#nextVersion();
    this.#secrets.push({
      namespace: spec.namespace,
      name: spec.name,
      resourceVersion: version,
      body: {
        metadata: {
          name: spec.name,
          namespace: spec.namespace,
          uid: randomUUID(),
          resourceVersion: String(version),
          creationTimestamp: created.replace(/\.\d{3}Z$/, 'Z'),
          ...(spec.labels ? { labels: spec.labels } : {}),
          ...(spec.ownedByExternalSecret
            ? {
                ownerReferences: [
                  {
                    apiVersion: 'external-secrets.io/v1beta1',
                    kind: 'ExternalSecret',
                    name: spec.ownedByExternalSecret,
                    uid: randomUUID(),
                    controller: true,
                    blockOwnerDeletion: true,
                  },
                ],
              }
            : {}),
        },
        type: spec.type ?? 'Opaque',
        data: Object.fromEntries(
          Object.entries(spec.data).map(([key, value]) => [key, Buffer.from(value).toString('base64')]),
        ),
      },
    });
  }

  addExternalSecret(spec: ExternalSecretSpec): void {
    const created = (spec.createdAt ?? this.#clock().toISOString()).replace(/\.\d{3}Z$/, 'Z');
    const version = this.#nextVersion();
    const refreshed = (spec.refreshTime ?? created).replace(/\.\d{3}Z$/, 'Z');
    this.#externalSecrets.push({
      namespace: spec.namespace,
      name: spec.name,
      resourceVersion: version,
      body: {
        apiVersion: 'external-secrets.io/v1beta1',
        kind: 'ExternalSecret',
        metadata: {
          name: spec.name,
          namespace: spec.namespace,
          uid: randomUUID(),
          resourceVersion: String(version),
          creationTimestamp: created,
        },
        spec: {
          refreshInterval: '1h',
          secretStoreRef: { kind: 'ClusterSecretStore', name: spec.secretStore },
          target: { name: spec.target, creationPolicy: 'Owner' },
          data: spec.data,
        },
        status: {
          binding: { name: spec.target },
          conditions: [
            {
              type: 'Ready',
              status: spec.ready ? 'True' : 'False',
              reason: spec.reason ?? (spec.ready ? 'SecretSynced' : 'SecretSyncedError'),
              message: spec.ready ? 'secret synced' : 'could not get secret data from provider',
              lastTransitionTime: refreshed,
            },
          ],
          refreshTime: refreshed,
          syncedResourceVersion: `1-${version}`,
        },
      },
    });
  }

  match(request: SandboxRequest): SandboxRouteMatch | undefined {
    return this.#router.match(request);
  }

  notFound(request: SandboxRequest): SandboxAnswer {
    return status(404, 'NotFound', `the server could not find the requested resource (get ${request.path})`);
  }

  rateLimited(retryAfter: string, code?: number): SandboxAnswer {
    const answer = status(code ?? 429, 'TooManyRequests', 'Too many requests, please try again later.');
    answer.headers = { ...answer.headers, 'retry-after': retryAfter };
    return answer;
  }

  failure(code: number, echo?: string): SandboxAnswer {
    return status(code, 'InternalError', echo ? `Internal error occurred: token ${echo}` : 'Internal error occurred');
  }

  callerSecret(request: SandboxRequest): string | undefined {
    return bearerToken(request);
  }

  auditLog(): unknown {
    return [...this.#audit];
  }

  groundTruth(): unknown {
    return {
      secrets: this.#secrets.map((s) => `${s.namespace}/${s.name}`),
      externalSecrets: this.#externalSecrets.map((s) => `${s.namespace}/${s.name}`),
    };
  }

  #nextVersion(): number {
    this.#resourceVersion += 1;
    return this.#resourceVersion;
  }

  #list(request: SandboxRequest, objects: StoredObject[], kind: string, namespace?: string): SandboxAnswer {
    const answer = this.#listAnswer(request, objects, kind, namespace);
    this.#audit.push({ time: this.#clock().toISOString(), verb: 'list', path: request.path, code: answer.status });
    return answer;
  }

  #listAnswer(request: SandboxRequest, objects: StoredObject[], kind: string, namespace?: string): SandboxAnswer {
    const token = bearerToken(request);
    if (!token || token !== this.token) return status(401, 'Unauthorized', 'Unauthorized');
    const selected = objects
      .filter((o) => namespace === undefined || o.namespace === namespace)
      .sort((a, b) => a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name));
    const limit = Number(request.query.get('limit') ?? 0);
    let start = 0;
    const cont = request.query.get('continue');
    if (cont) {
      const decoded = decodeContinue(cont);
      if (decoded === undefined)
        return status(
          410,
          'Expired',
          'The provided continue parameter is too old to display a consistent list result.',
        );
      start = decoded;
    }
    const end = limit > 0 ? Math.min(selected.length, start + limit) : selected.length;
    const metadata: Record<string, unknown> = { resourceVersion: String(this.#resourceVersion) };
    if (end < selected.length) {
      metadata.continue = Buffer.from(JSON.stringify({ v: 'meta.k8s.io/v1', start: end })).toString('base64');
      metadata.remainingItemCount = selected.length - end;
    }
    return {
      status: 200,
      headers: { 'content-type': 'application/json' },
      body: {
        kind,
        apiVersion: kind === 'SecretList' ? 'v1' : 'external-secrets.io/v1beta1',
        metadata,
        items: selected
          .slice(start, end)
          .map((o) => (kind === 'SecretList' ? { kind: 'Secret', apiVersion: 'v1', ...o.body } : o.body)),
      },
    };
  }
}

function decodeContinue(token: string): number | undefined {
  try {
    const parsed = JSON.parse(Buffer.from(token, 'base64').toString('utf8')) as { start?: unknown };
    return typeof parsed.start === 'number' && Number.isInteger(parsed.start) && parsed.start >= 0
      ? parsed.start
      : undefined;
  } catch {
    return undefined;
  }
}

function status(code: number, reason: string, message: string): SandboxAnswer {
  return {
    status: code,
    headers: { 'content-type': 'application/json' },
    body: { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code },
  };
}

export interface StartedKubernetesSandbox {
  url: string;
  sandbox: KubernetesSandbox;
  server: SandboxServer;
  close(): Promise<void>;
}

export async function startKubernetesSandbox(
  options: { clock?: Clock; token?: string } = {},
): Promise<StartedKubernetesSandbox> {
  const sandbox = new KubernetesSandbox(options);
  const server = new SandboxServer(sandbox, { rateLimit: null });
  const url = await server.start();
  return { url, sandbox, server, close: () => server.stop() };
}
