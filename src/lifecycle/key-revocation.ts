// Revocation: the provider revokes the key first (the step that ends the risk), then the secret leaves its store,
// the registry marks the entry `revoked` (one commit) and the event is logged. Every step is idempotent, so after
// a partial failure running `revoke` again finishes the job.
import { KeyledgerError, NotFoundError } from '../errors/keyledger-error.js';
import type { EventLog } from '../events/event-log.js';
import { keyCapabilities, type Provider } from '../providers/provider.js';
import { entryStorageRef } from '../registry/key-entry-schema.js';
import type { RegistryWriter } from '../registry/registry-writer.js';
import type { SecretStore } from '../secrets/secret-store.js';
import { type Logger, silentLogger } from '../telemetry/logger.js';

export interface RevokeKeyRequest {
  keyId: string;
  actor: string;
  reason?: string;
  /** Keep the secret in its store (forensics); it is deleted by default. */
  keepSecret?: boolean;
}

export interface RevokedKey {
  keyId: string;
  provider: string;
  providerKeyId?: string;
  /** What was done, in order. */
  steps: string[];
  commit?: string;
  eventSeq: number;
}

export interface KeyRevokerDependencies {
  providers: (name: string) => Provider;
  stores: (name: string) => SecretStore;
  writer: RegistryWriter;
  events: EventLog;
  logger?: Logger;
}

export class KeyRevoker {
  readonly #deps: KeyRevokerDependencies;
  readonly #log: Logger;

  constructor(dependencies: KeyRevokerDependencies) {
    this.#deps = dependencies;
    this.#log = (dependencies.logger ?? silentLogger).child({ service: 'revoke' });
  }

  async revoke(request: RevokeKeyRequest): Promise<RevokedKey> {
    const found = await this.#deps.writer.read(request.keyId);
    if (!found) throw new NotFoundError('E_KEY_NOT_FOUND', `no registry entry with key_id "${request.keyId}"`);
    const { entry } = found;
    const providerName = entry.scope?.provider;
    if (!providerName) {
      throw new KeyledgerError(
        'E_REVOKE_NO_PROVIDER',
        `${request.keyId} has no scope.provider: cannot tell where to revoke it`,
        { category: 'input' },
      );
    }
    const storageRef = entryStorageRef(entry);
    const steps: string[] = [];
    const provider = this.#deps.providers(providerName);
    if (entry.provider_key_id) {
      const capabilities = keyCapabilities(provider, { account: entry.scope?.account_id, kind: entry.scope?.kind });
      // A kind may be manual to create (a GitHub PAT) and still revocable by API: only `revoke` counts here.
      if (provider.capabilities().manual || !capabilities.revoke) {
        throw new KeyledgerError(
          'E_REVOKE_MANUAL',
          `${providerName} offers no revocation API: revoke ${entry.provider_key_id} in its console, then run \`keyledger revoke ${request.keyId} --already-revoked\``,
          { category: 'input' },
        );
      }
      // Some providers revoke a token only with the token itself (Slack's auth.revoke): hand it over when stored.
      const stored = storageRef
        ? await this.#deps
            .stores(storageRef.store)
            .get(storageRef.path)
            .catch(() => null)
        : null;
      await provider.revoke(
        {
          providerKeyId: entry.provider_key_id,
          ...(entry.scope?.account_id ? { account: entry.scope.account_id } : {}),
        },
        ...(stored ? [stored.value] : []),
      );
      steps.push(`revoked ${providerName} key ${entry.provider_key_id}`);
    } else {
      steps.push(`no provider_key_id recorded: nothing to revoke at ${providerName}`);
    }
    if (storageRef && !request.keepSecret) {
      await this.#deps.stores(storageRef.store).delete(storageRef.path);
      steps.push(`deleted the secret at ${storageRef.store}:${storageRef.path}`);
    }
    let commit: string | undefined;
    if (entry.status !== 'revoked') {
      const written = await this.#deps.writer.update(
        request.keyId,
        { status: 'revoked' },
        { message: `Revoked by ${request.actor}${request.reason ? `: ${request.reason}` : ''}` },
      );
      commit = written.commit;
      steps.push(`marked ${request.keyId} revoked in the registry`);
    }
    this.#log.info({ keyId: request.keyId, provider: providerName, steps }, 'revoked');
    const event = await this.#deps.events.append({
      type: 'revoked',
      actor: request.actor,
      keyId: request.keyId,
      data: {
        provider: providerName,
        ...(entry.provider_key_id ? { provider_key_id: entry.provider_key_id } : {}),
        ...(request.reason ? { reason: request.reason } : {}),
        ...(commit ? { commit } : {}),
        steps,
      },
    });
    return {
      keyId: request.keyId,
      provider: providerName,
      ...(entry.provider_key_id ? { providerKeyId: entry.provider_key_id } : {}),
      steps,
      ...(commit ? { commit } : {}),
      eventSeq: event.seq,
    };
  }
}
