// HashiCorp Vault KV version 2 metadata: every secret under a mount (or a folder of it), walked with `LIST
// /v1/<mount>/metadata/<folder>` (sent as `GET ?list=true`, which Vault documents as the same) and read with
// `GET /v1/<mount>/metadata/<path>` (created_time, updated_time, current_version, custom_metadata). Only metadata:
// values are never read. Each path is matched to the entry whose `storage.vault_path` names it.
import { getJson } from '../discovery-http.js';
import type { DiscoverySource, SecretObservation } from '../discovery-source.js';
import { requiredOption, tokenFromEnv } from '../discovery-source.js';

export const vaultKvDiscoverySource: DiscoverySource = {
  name: 'vault-kv',
  description: 'HashiCorp Vault KV v2 metadata: every secret path under a mount, with its dates and version',
  options: {
    url: { description: 'the Vault address, e.g. https://vault.example.com:8200', required: true },
    mount: { description: 'the KV v2 mount (default secret)' },
    path: { description: 'only this folder of the mount' },
    namespace: { description: 'the Vault Enterprise namespace' },
    'token-env': { description: 'the environment variable holding the token (default VAULT_TOKEN)' },
  },
  async *observe(context) {
    const base = requiredOption(context, 'url').replace(/\/+$/, '');
    const mount = context.options.mount ?? 'secret';
    const token = tokenFromEnv(context, 'VAULT_TOKEN');
    const headers: Record<string, string> = { 'x-vault-token': token };
    if (context.options.namespace) headers['x-vault-namespace'] = context.options.namespace;
    const call = async (path: string, list: boolean): Promise<Record<string, unknown> | undefined> => {
      const url = `${base}/v1/${mount}/metadata/${path.split('/').map(encodeURIComponent).join('/')}${list ? '?list=true' : ''}`;
      const answer = await getJson(url, headers, {
        what: `Vault (${mount}/metadata/${path})`,
        acceptStatus: [404],
        // Vault's `{"errors":[...]}` says why; it never holds the token.
        describe: (body) => {
          const errors = (body as { errors?: unknown } | undefined)?.errors;
          return Array.isArray(errors) ? errors.join('; ') : undefined;
        },
      });
      if (answer.status === 404) return undefined;
      return ((answer.body as { data?: Record<string, unknown> } | undefined)?.data ?? {}) as Record<string, unknown>;
    };
    const start = (context.options.path ?? '').replace(/^\/+|\/+$/g, '');
    const folders = [start === '' ? '' : `${start}/`];
    while (folders.length > 0) {
      const folder = folders.shift()!;
      const listed = await call(folder, true);
      const keys = Array.isArray(listed?.keys) ? (listed.keys as unknown[]).filter((k) => typeof k === 'string') : [];
      for (const key of keys as string[]) {
        const path = `${folder}${key}`;
        if (key.endsWith('/')) {
          folders.push(path);
          continue;
        }
        const metadata = await call(path, false);
        if (!metadata) continue; // deleted between the listing and the read
        const custom = metadata.custom_metadata;
        const observation: SecretObservation = {
          location: mount,
          name: path,
          storePath: path,
          ...(isTime(metadata.created_time) ? { createdAt: new Date(metadata.created_time).toISOString() } : {}),
          ...(isTime(metadata.updated_time) ? { updatedAt: new Date(metadata.updated_time).toISOString() } : {}),
          detail: {
            current_version: typeof metadata.current_version === 'number' ? metadata.current_version : null,
            ...(custom && typeof custom === 'object' && typeof (custom as Record<string, unknown>).owner === 'string'
              ? { owner: (custom as Record<string, string>).owner! }
              : {}),
          },
        };
        yield observation;
      }
    }
  },
};

function isTime(value: unknown): value is string {
  return typeof value === 'string' && Number.isFinite(Date.parse(value));
}
