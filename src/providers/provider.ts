// The interface every system that issues keys implements (providers/README.md). The core imports this
// file only; implementations live in providers/<name>/ and are registered by name in providers/provider-table.ts.
import type { RateLimit } from '../runtime/token-bucket.js';
import type { SecretValue } from '../secrets/secret-value.js';

/** Identifies one key at a provider: the provider's own id for it plus the account/identity it belongs to. */
export interface ProviderKeyRef {
  /** The provider's id of the key (an AWS access key id, a Datadog key id, a GitLab token id...). Not secret. */
  providerKeyId: string;
  /** The account, project, organisation or user the key hangs off (AWS user name, GCP service account...). */
  account?: string;
}

export interface CreateKeyRequest {
  /** A human-readable name the provider shows in its console, e.g. `payments-webhooks-2026-11-23`. */
  name: string;
  /** Where to create it: AWS user name, GCP service-account email, OpenAI project id... */
  account?: string;
  /** Provider-specific permissions / scopes / roles, as the registry's `scope.permissions` lists them. */
  permissions?: string[];
  /** When the provider supports an expiry on the key itself. */
  expiresAt?: Date;
  /** Free-form provider-specific options from the registry's `scope`. */
  options?: Record<string, unknown>;
}

export interface CreatedKey extends ProviderKeyRef {
  /** The key material, shown by the provider once. */
  secret: SecretValue;
  createdAt: Date;
  expiresAt?: Date;
}

export type ProviderKeyStatus = 'active' | 'inactive' | 'expired' | 'revoked';

/** A key as the provider lists it: everything but the secret. */
export interface ProviderKey extends ProviderKeyRef {
  name?: string;
  status: ProviderKeyStatus;
  createdAt?: Date;
  expiresAt?: Date;
  lastUsedAt?: Date;
  /** Who created or owns it at the provider, when it says (an email, a user name). */
  createdBy?: string;
  /**
   * The user the key acts as, when the account is not that user and the provider says (a GitHub personal access
   * token, listed under its organisation, acts as its owner: a person, or a machine user for a service).
   */
  holder?: string;
  permissions?: string[];
}

export interface VerifyResult {
  /** True when the provider accepted the key on its identify-self call. */
  valid: boolean;
  /** Who the provider says the key is (an ARN, a user login, an account id), when valid. */
  identity?: string;
  /** The provider's id of the key, when its identify-self call reveals it. */
  providerKeyId?: string;
  /** Why it is not valid, in the provider's words. Never contains the key. */
  reason?: string;
}

export interface LastUsed {
  /** Null when the provider says the key was never used. */
  at: Date | null;
  service?: string;
  region?: string;
  sourceIp?: string;
}

export interface ProviderCapabilities {
  create: boolean;
  list: boolean;
  verify: boolean;
  revoke: boolean;
  lastUsed: boolean;
  /** The provider rotates in place with one call (GitLab's rotate, Cloudflare's roll). */
  nativeRotate: boolean;
  /**
   * True when `rotate()` invalidates the old secret at once (Cloudflare's roll, GitLab's rotate): there is no
   * window in which both work, so a rotation that must not interrupt consumers creates a new key and revokes the
   * old one instead, and uses rotate() only when the old secret is already lost or leaked.
   */
  nativeRotateRevokesOld?: boolean;
  /** No issuance API: rotation becomes a ticket (Stripe secret keys, Slack webhooks). */
  manual: boolean;
  /** The most keys one account may hold at once (AWS IAM: 2), when the provider limits it. */
  maxKeysPerAccount?: number;
  /** Provider calls one revoke takes (AWS IAM: 2, deactivate then delete); 1 when absent. Paces bulk rotation. */
  revokeCalls?: number;
  /**
   * When one adapter serves several kinds of credential that its API treats differently (GitHub: deploy keys
   * can be created by API, fine-grained PATs cannot), what differs per kind, by the kind's name.
   */
  kinds?: Record<string, Partial<Omit<ProviderCapabilities, 'kinds'>> & { note?: string }>;
}

/** The provider's documented request budget; bulk work is paced against it (src/runtime/token-bucket.ts). */
export type { RateLimit } from '../runtime/token-bucket.js';

export interface Provider {
  /** The registry's `scope.provider` value this adapter serves, e.g. `aws-iam`, `datadog`, `internal`. */
  readonly name: string;
  /** What this provider's API allows. */
  capabilities(): ProviderCapabilities;
  /** The request budget to pace bulk work against. */
  rateLimit(): RateLimit;
  /** Mints a new key; the secret is returned once and must go straight to a secret store. */
  create(request: CreateKeyRequest): Promise<CreatedKey>;
  /** Lists the keys the provider holds (for one account, or all the adapter can see). */
  list(options?: { account?: string }): AsyncIterable<ProviderKey>;
  /** Proves a secret works through the provider's cheapest identify-self call. */
  verify(secret: SecretValue, ref?: ProviderKeyRef): Promise<VerifyResult>;
  /**
   * Revokes (deletes or permanently disables) a key. Revoking an already-revoked key is not an error. `secret` is
   * the key itself, for providers that revoke a key only with the key (Slack's auth.revoke); others ignore it.
   */
  revoke(ref: ProviderKeyRef, secret?: SecretValue): Promise<void>;
  /** When the provider last saw the key used. */
  lastUsed(ref: ProviderKeyRef): Promise<LastUsed>;
  /** Rotates in place where the provider supports it (capabilities().nativeRotate). */
  rotate?(ref: ProviderKeyRef): Promise<CreatedKey>;
  /**
   * Which of `capabilities().kinds` a key of this account is, when the account tells (GitHub: `owner/repo` is a
   * deploy key, an organisation a fine-grained PAT). Absent, or undefined: the adapter's kinds are not told apart.
   */
  kindOf?(account: string | undefined): string | undefined;
  /** Writes what the adapter buffered (the internal provider's coalesced last-use times); the app calls it at close. */
  flush?(): Promise<void>;
}

/**
 * What the provider allows for one key: its adapter's capabilities with those of the key's kind laid over them.
 * The kind is the registry's `scope.kind` when the entry names one, else what the adapter reads off the account.
 */
export function keyCapabilities(
  provider: Provider,
  key: { account?: string | undefined; kind?: string | undefined } = {},
): Omit<ProviderCapabilities, 'kinds'> & { kind?: string; note?: string } {
  const { kinds, ...base } = provider.capabilities();
  const kind = key.kind ?? provider.kindOf?.(key.account);
  const specific = kind ? kinds?.[kind] : undefined;
  return { ...base, ...(specific ?? {}), ...(kind ? { kind } : {}) };
}
