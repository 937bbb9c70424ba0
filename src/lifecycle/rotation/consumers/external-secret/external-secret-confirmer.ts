// Confirms a consumer fed by the External Secrets Operator: reads its `ExternalSecret` through the Kubernetes API
// and accepts once the object is Ready and its last sync (status.refreshTime) is after the new version was
// stored, reporting the synced version. Plain HTTP (undici) to the API server, no Kubernetes client library.
import { readFileSync } from 'node:fs';
import { Agent, request } from 'undici';
import type {
  ConfirmationStatus,
  ConsumerConfirmer,
  ConsumerProbe,
  ExpectedKeyVersion,
} from '../consumer-confirmer.js';
import { externalSecretObjectSchema, externalSecretSettingsSchema } from './external-secret-schemas.js';

const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

export class ExternalSecretConfirmer implements ConsumerConfirmer {
  readonly kind = 'external-secret';
  readonly #env: NodeJS.ProcessEnv;

  constructor(env: NodeJS.ProcessEnv = process.env) {
    this.#env = env;
  }

  async check(consumer: ConsumerProbe, expected: ExpectedKeyVersion): Promise<ConfirmationStatus> {
    const parsed = externalSecretSettingsSchema.safeParse(consumer.settings);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      return { state: 'failed', detail: `${consumer.name}: probe.${issue.path.join('.')}: ${issue.message}` };
    }
    const settings = parsed.data;
    const server = settings.api_server ?? this.#inClusterServer();
    if (!server)
      return {
        state: 'failed',
        detail: `${consumer.name}: no Kubernetes API server (set probe.api_server, or run in a cluster)`,
      };
    const token = settings.token_env ? this.#env[settings.token_env] : readOptional(`${SERVICE_ACCOUNT_DIR}/token`);
    const ca = server.startsWith('https:') ? readOptional(`${SERVICE_ACCOUNT_DIR}/ca.crt`) : undefined;
    const url = `${server.replace(/\/+$/, '')}/apis/${settings.api_version}/namespaces/${encodeURIComponent(settings.namespace)}/externalsecrets/${encodeURIComponent(settings.name)}`;
    const dispatcher = ca ? new Agent({ connect: { ca } }) : undefined;
    try {
      const response = await request(url, {
        method: 'GET',
        headers: { accept: 'application/json', ...(token ? { authorization: `Bearer ${token.trim()}` } : {}) },
        headersTimeout: settings.timeout_ms,
        bodyTimeout: settings.timeout_ms,
        ...(dispatcher ? { dispatcher } : {}),
      });
      const text = await response.body.text();
      if (response.statusCode === 404)
        return {
          state: 'failed',
          detail: `${consumer.name}: ExternalSecret ${settings.namespace}/${settings.name} does not exist`,
        };
      if (response.statusCode >= 400)
        return { state: 'waiting', detail: `${consumer.name}: Kubernetes API answered ${response.statusCode}` };
      const object = externalSecretObjectSchema.safeParse(JSON.parse(text));
      if (!object.success) return { state: 'waiting', detail: `${consumer.name}: unreadable ExternalSecret status` };
      const status = object.data.status ?? {};
      const ready = status.conditions?.find((condition) => condition.type === 'Ready');
      const synced = status.refreshTime ? Date.parse(status.refreshTime) : Number.NaN;
      const version = status.syncedResourceVersion ?? '(unknown)';
      if (ready?.status === 'False' && ready.reason === 'SecretSyncedError') {
        return { state: 'waiting', detail: `${consumer.name}: sync error: ${ready.message ?? 'no message'}` };
      }
      if (ready?.status === 'True' && synced >= Math.floor(expected.storedAt.getTime() / 1000) * 1000) {
        return { state: 'confirmed', detail: `${consumer.name}: synced at ${status.refreshTime} (version ${version})` };
      }
      return {
        state: 'waiting',
        detail: `${consumer.name}: last sync ${status.refreshTime ?? 'never'} (version ${version}), before the new secret`,
      };
    } catch (error) {
      return { state: 'waiting', detail: `${consumer.name}: Kubernetes API unreachable (${(error as Error).message})` };
    } finally {
      await dispatcher?.close();
    }
  }

  #inClusterServer(): string | undefined {
    const host = this.#env.KUBERNETES_SERVICE_HOST;
    const port = this.#env.KUBERNETES_SERVICE_PORT ?? '443';
    if (!host) return undefined;
    return `https://${host.includes(':') ? `[${host}]` : host}:${port}`;
  }
}

function readOptional(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}
