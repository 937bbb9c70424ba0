// The checks `issue` and `rotate` run before their first external effect (issue 13, item 1): the secret store the
// key goes to is configured and writable, the provider's credentials work (one cheap read), the account has room
// for one more key (AWS IAM: two per user), and every consumer probe answers or is a declared grace period. A
// failed preflight has changed nothing anywhere; its error lists every problem with the config key to set.
import { KeyledgerError } from '../../errors/keyledger-error.js';
import { ProviderError } from '../../errors/provider-error.js';
import { keyCapabilities, type Provider, type ProviderKey } from '../../providers/provider.js';
import type { Clock } from '../../runtime/clock.js';
import type { SecretStore } from '../../secrets/secret-store.js';
import type { ConsumerConfirmer, ConsumerProbe } from '../rotation/consumers/consumer-confirmer.js';

/** What is about to get a new key, and where that key will live. */
export interface PreflightTarget {
  keyId: string;
  provider: string;
  account?: string;
  /** The registry's `scope.kind`, when it names one. */
  kind?: string;
  /** The configured store name and the path the new secret goes to. */
  store: string;
  path: string;
  /** The key being rotated away from (it may stay beside the new one); absent for a first issue. */
  currentProviderKeyId?: string;
  /** The key's consumers, as probes (consumer-probes.ts). */
  consumers: ConsumerProbe[];
}

export type PreflightCheck = 'store' | 'provider' | 'room' | 'consumer';

export interface PreflightProblem {
  check: PreflightCheck;
  /** Where to fix it: `stores.vault` (keyledger.config.yaml), `providers.aws-iam`, `consumed_by`... */
  configKey: string;
  message: string;
}

export class PreflightError extends KeyledgerError {
  readonly problems: PreflightProblem[];

  constructor(target: Pick<PreflightTarget, 'keyId'>, action: string, problems: PreflightProblem[]) {
    super(
      'E_PREFLIGHT_FAILED',
      `cannot ${action} ${target.keyId}, nothing was changed: ${problems.map((problem) => problem.message).join('; ')}`,
      { category: 'config', details: { keyId: target.keyId, problems } },
    );
    this.problems = problems;
  }
}

export interface KeyPreflightDependencies {
  providers: (name: string) => Provider;
  stores: (name: string) => SecretStore;
  /** The consumer confirmers; without them consumer probes are not checked. */
  confirmers?: (kind: string) => ConsumerConfirmer | undefined;
  clock: Clock;
  /** How long a store or provider that passed stays trusted (bulk runs check each once, not once per key). */
  cacheMs?: number;
}

const DEFAULT_CACHE_MS = 60_000;

export class KeyPreflight {
  readonly #deps: KeyPreflightDependencies;
  /** `store:<name>` / `provider:<name>` -> when it last passed. Failures are never cached. */
  readonly #passed = new Map<string, number>();

  constructor(dependencies: KeyPreflightDependencies) {
    this.#deps = dependencies;
  }

  /** Runs every check; throws a PreflightError naming all problems found. `action`: `rotate` or `issue`. */
  async check(target: PreflightTarget, action: 'rotate' | 'issue'): Promise<void> {
    const [store, provider] = await Promise.all([this.#checkStore(target), this.#checkProvider(target)]);
    const problems = [...store, ...provider.problems];
    if (provider.keys) problems.push(...this.#checkRoom(target, provider.provider!, provider.keys));
    problems.push(...(await this.#checkConsumers(target)));
    if (problems.length) throw new PreflightError(target, action, problems);
  }

  async #checkStore(target: PreflightTarget): Promise<PreflightProblem[]> {
    const configKey = `stores.${target.store}`;
    if (this.#fresh(`store:${target.store}`)) return [];
    let store: SecretStore;
    try {
      store = this.#deps.stores(target.store);
    } catch (error) {
      return [{ check: 'store', configKey, message: messageOf(error) }];
    }
    try {
      await store.checkWritable(target.path);
    } catch (error) {
      return [
        {
          check: 'store',
          configKey,
          message: `secret store "${target.store}" (${store.kind}) cannot be written at ${target.path}: ${messageOf(error)} — check \`${configKey}\` in keyledger.config.yaml (address, credentials, policy)`,
        },
      ];
    }
    this.#passed.set(`store:${target.store}`, this.#deps.clock().getTime());
    return [];
  }

  /**
   * The provider exists in the configuration and answers one read with its credentials. Where the account's keys
   * are capped, that read lists the account's keys (returned, for the room check); otherwise the first one only.
   */
  async #checkProvider(
    target: PreflightTarget,
  ): Promise<{ problems: PreflightProblem[]; provider?: Provider; keys?: ProviderKey[] }> {
    const configKey = `providers.${target.provider}`;
    let provider: Provider;
    try {
      provider = this.#deps.providers(target.provider);
    } catch (error) {
      return { problems: [{ check: 'provider', configKey, message: messageOf(error) }] };
    }
    const capabilities = keyCapabilities(provider, { account: target.account, kind: target.kind });
    if (!capabilities.list) return { problems: [] }; // no cheap read to make: the first call is the create itself
    const countRoom = capabilities.maxKeysPerAccount !== undefined && target.account !== undefined;
    if (!countRoom && this.#fresh(`provider:${target.provider}`)) return { problems: [] };
    const keys: ProviderKey[] = [];
    try {
      for await (const key of provider.list(target.account ? { account: target.account } : {})) {
        keys.push(key);
        if (!countRoom) break;
      }
    } catch (error) {
      // A 429 says nothing about the configuration: the caller retries it (the scheduler requeues the key).
      if (error instanceof ProviderError && error.code === 'E_PROVIDER_RATE_LIMITED') throw error;
      return {
        problems: [
          {
            check: 'provider',
            configKey,
            message: `${target.provider} refused a read of ${target.account ? `account ${target.account}` : 'its keys'} with the configured credentials: ${messageOf(error)} — check \`${configKey}\` in keyledger.config.yaml (or KEYLEDGER_PROVIDERS_FILE)`,
          },
        ],
      };
    }
    this.#passed.set(`provider:${target.provider}`, this.#deps.clock().getTime());
    return { problems: [], provider, ...(countRoom ? { keys } : {}) };
  }

  /**
   * Room for one more key: below the cap, or (rotating) at it with an inactive key other than the current one,
   * which the rotation deletes first (key-rotator.ts, `planned`).
   */
  #checkRoom(target: PreflightTarget, provider: Provider, keys: ProviderKey[]): PreflightProblem[] {
    const limit = keyCapabilities(provider, { account: target.account, kind: target.kind }).maxKeysPerAccount;
    const live = keys.filter((key) => key.status !== 'revoked' && key.status !== 'expired');
    if (limit === undefined || live.length < limit) return [];
    const current = target.currentProviderKeyId;
    const spare = current && live.find((key) => key.status !== 'active' && key.providerKeyId !== current);
    if (spare && live.length - 1 < limit) return [];
    const others = live
      .filter((key) => key.providerKeyId !== target.currentProviderKeyId)
      .map((key) => key.providerKeyId);
    return [
      {
        check: 'room',
        configKey: `scope.account_id`,
        message: `${target.provider} account ${target.account} already holds ${live.length} live keys (limit ${limit}): delete ${others.length ? others.join(', ') : 'one'}${target.currentProviderKeyId ? ` (not the current ${target.currentProviderKeyId})` : ''} first`,
      },
    ];
  }

  async #checkConsumers(target: PreflightTarget): Promise<PreflightProblem[]> {
    const confirmers = this.#deps.confirmers;
    if (!confirmers) return [];
    const problems: PreflightProblem[] = [];
    await Promise.all(
      target.consumers.map(async (probe) => {
        if (probe.kind === 'grace') return;
        const confirmer = confirmers(probe.kind);
        if (!confirmer) {
          problems.push({
            check: 'consumer',
            configKey: 'consumed_by',
            message: `consumer ${probe.name}: unknown probe kind "${probe.kind}" — fix its \`probe\` in the registry entry`,
          });
          return;
        }
        if (!confirmer.reachable) return;
        const answer = await confirmer.reachable(probe);
        if (!answer.reachable) {
          problems.push({
            check: 'consumer',
            configKey: 'consumed_by',
            message: `consumer ${probe.name} cannot be asked which key it uses (${answer.detail}) — fix its \`probe\` in the registry entry, or declare a grace period there (\`probe: { kind: grace, seconds: 900 }\`)`,
          });
        }
      }),
    );
    return problems;
  }

  #fresh(key: string): boolean {
    const at = this.#passed.get(key);
    return at !== undefined && this.#deps.clock().getTime() - at < (this.#deps.cacheMs ?? DEFAULT_CACHE_MS);
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
