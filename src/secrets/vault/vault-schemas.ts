// The options of the Vault store, validated once (STYLE habit 3); the type is inferred from the schema.
import { z } from 'zod';

const segment = /^[A-Za-z0-9_.-]+$/;

export const vaultTokenAuthSchema = z.object({
  method: z.literal('token'),
  /** A Vault token (`hvs.…`). Prefer passing it through VAULT_TOKEN over writing it in a file. */
  token: z.string().min(1),
});

/**
 * A token kept in a file (as Vault Agent's file sink writes it): read when first needed and read again after Vault
 * answers 403, so a renewed token is picked up. A relative path is the data folder's (`.keyledger/`): the token
 * stays beside keyledger's other local state, never in the registry.
 */
export const vaultTokenFileAuthSchema = z.object({
  method: z.literal('token-file'),
  path: z.string().min(1),
});

export const vaultAppRoleAuthSchema = z.object({
  method: z.literal('approle'),
  roleId: z.string().min(1),
  secretId: z.string().min(1),
  /** The AppRole auth mount (`vault auth enable -path=...`). */
  mount: z.string().regex(segment).default('approle'),
});

export const vaultSecretStoreOptionsSchema = z
  .object({
    /** Vault's base URL, e.g. `https://vault.example.com:8200` (VAULT_ADDR). */
    address: z.url({ protocol: /^https?$/ }),
    /** The KV version 2 mount (`secret` by default, as `vault server -dev` has it). */
    mount: z.string().regex(segment).default('secret'),
    /** Prepended to every path, e.g. `keyledger` puts `payments/stripe` at `secret/data/keyledger/payments/stripe`. */
    pathPrefix: z
      .string()
      .regex(/^[A-Za-z0-9_+=.@-]+(\/[A-Za-z0-9_+=.@-]+)*$/)
      .optional(),
    /** Vault Enterprise namespace, sent as X-Vault-Namespace (VAULT_NAMESPACE). */
    namespace: z.string().min(1).optional(),
    auth: z.discriminatedUnion('method', [vaultTokenAuthSchema, vaultTokenFileAuthSchema, vaultAppRoleAuthSchema]),
    /** The field of the KV data that holds the secret (what External Secrets' `property` names). */
    valueField: z.string().min(1).default('value'),
    requestTimeoutMs: z.number().int().positive().default(10_000),
    /** How often a write that lost a check-and-set race is retried before E_SECRET_CONFLICT. */
    casAttempts: z.number().int().min(1).max(20).default(5),
    /**
     * Serialise changes to a path across processes with a check-and-set lease lock under `.keyledger-locks/`
     * (Vault's metadata endpoint has no check-and-set of its own). Off only when one process writes the store.
     */
    crossProcessLock: z.boolean().default(true),
    /** How long a lock holder may keep it before others take it over. */
    lockLeaseMs: z.number().int().min(1_000).default(30_000),
    /** How long to wait for a held lock before E_SECRET_CONFLICT. */
    lockWaitMs: z.number().int().min(0).default(15_000),
  })
  .strict();

export type VaultSecretStoreOptionsInput = z.input<typeof vaultSecretStoreOptionsSchema>;
export type VaultSecretStoreOptions = z.output<typeof vaultSecretStoreOptionsSchema>;
