// The options of the GitHub adapter and the shapes of the API answers it reads (zod, from the REST description).
import { z } from 'zod';
import { SecretValue } from '../../secrets/secret-value.js';
import { httpProviderOptionsSchema } from '../http/provider-http-options.js';
import { GITHUB_API_URL } from './github-constants.js';

export const githubOptionsSchema = httpProviderOptionsSchema.extend({
  baseUrl: z.url().default(GITHUB_API_URL),
  /** The organisation whose fine-grained PAT grants are listed and revoked (not needed to verify a key). */
  org: z.string().min(1).optional(),
  /**
   * A GitHub App installation token (`ghs_`): the org PAT endpoints accept nothing else. Not needed to verify a
   * key, so a scanner can check a leaked token without credentials of its own.
   */
  token: z
    .union([z.string().min(1), z.instanceof(SecretValue)])
    .transform((value) => (value instanceof SecretValue ? value : new SecretValue(value)))
    .optional(),
  /** Repositories (`owner/name`) whose deploy keys `list()` includes when no account is given. */
  repositories: z.array(z.string().regex(/^[^/\s]+\/[^/\s]+$/)).default([]),
});

export type GithubOptions = z.output<typeof githubOptionsSchema>;
export type GithubOptionsInput = z.input<typeof githubOptionsSchema>;

export const githubPatGrantSchema = z.looseObject({
  id: z.number(),
  owner: z.looseObject({ login: z.string() }),
  permissions: z
    .looseObject({
      organization: z.record(z.string(), z.string()).optional(),
      repository: z.record(z.string(), z.string()).optional(),
      other: z.record(z.string(), z.string()).optional(),
    })
    .optional(),
  access_granted_at: z.string().nullish(),
  token_id: z.number(),
  token_name: z.string().nullish(),
  token_expired: z.boolean().nullish(),
  token_expires_at: z.string().nullish(),
  token_last_used_at: z.string().nullish(),
});

/**
 * One credential a member authorized for a SAML single sign-on organisation, as `GET /orgs/{org}/credential-
 * authorizations` lists it (GitHub Enterprise Cloud, "List SAML SSO authorizations for an organization"): a classic
 * personal access token (`credential_type` "personal access token", with `token_last_eight` and `scopes`) or an SSH
 * key (`fingerprint`). `credential_accessed_at` is null for a credential never used.
 */
export const githubCredentialAuthorizationSchema = z.looseObject({
  login: z.string(),
  credential_id: z.number(),
  credential_type: z.string(),
  credential_authorized_at: z.string(),
  token_last_eight: z.string().nullish(),
  scopes: z.array(z.string()).nullish(),
  credential_accessed_at: z.string().nullish(),
  authorized_credential_id: z.number().nullish(),
  authorized_credential_note: z.string().nullish(),
  authorized_credential_expires_at: z.string().nullish(),
});

export const githubDeployKeySchema = z.looseObject({
  id: z.number(),
  key: z.string(),
  title: z.string().nullish(),
  read_only: z.boolean().nullish(),
  created_at: z.string().nullish(),
  added_by: z.string().nullish(),
  last_used: z.string().nullish(),
});

export const githubUserSchema = z.looseObject({ login: z.string(), id: z.number() });

export const githubErrorSchema = z.looseObject({
  message: z.string().optional(),
  errors: z
    .array(z.looseObject({ code: z.string().optional(), field: z.string().optional(), message: z.string().optional() }))
    .optional(),
});

/** An organisation's repository as `GET /orgs/{org}/repos` lists it (the fields a clone needs). */
export const githubRepositorySchema = z.looseObject({
  full_name: z.string(),
  clone_url: z.string(),
  archived: z.boolean().optional(),
});
