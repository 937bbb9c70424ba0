// The options of the GitLab adapter, its account syntax, and the token object GitLab answers (zod).
import { z } from 'zod';
import { SecretValue } from '../../secrets/secret-value.js';
import { httpProviderOptionsSchema } from '../http/provider-http-options.js';
import { GITLAB_URL } from './gitlab-constants.js';

export const gitlabOptionsSchema = httpProviderOptionsSchema.extend({
  /** The instance root (`https://gitlab.example.com`); the adapter adds `/api/v4`. */
  baseUrl: z.url().default(GITLAB_URL),
  /** An administrator's personal access token (scope `api`): every call but verify needs one. */
  token: z
    .union([z.string().min(1), z.instanceof(SecretValue)])
    .transform((value) => (value instanceof SecretValue ? value : new SecretValue(value)))
    .optional(),
  /** The access level of new project and group tokens (10 guest ... 40 maintainer, 50 owner). */
  accessLevel: z.number().int().min(10).max(50).default(30),
});

export type GitlabOptions = z.output<typeof gitlabOptionsSchema>;
export type GitlabOptionsInput = z.input<typeof gitlabOptionsSchema>;

/** A token's account: `project:<id>`, `group:<id>` or `user:<id>` (ids or URL-encoded paths for projects/groups). */
export const gitlabAccountSchema = z
  .string()
  .regex(/^(project|group|user):.+$/, { message: 'expected project:<id>, group:<id> or user:<id>' })
  .transform((value) => {
    const separator = value.indexOf(':');
    return { type: value.slice(0, separator) as 'project' | 'group' | 'user', id: value.slice(separator + 1) };
  });

export type GitlabAccount = z.output<typeof gitlabAccountSchema>;

export const gitlabTokenSchema = z.looseObject({
  id: z.number(),
  name: z.string(),
  revoked: z.boolean().optional(),
  active: z.boolean().optional(),
  created_at: z.string().nullish(),
  expires_at: z.string().nullish(),
  last_used_at: z.string().nullish(),
  scopes: z.array(z.string()).optional(),
  user_id: z.number().optional(),
  token: z.string().optional(),
});

export type GitlabToken = z.output<typeof gitlabTokenSchema>;

/** A user as `GET /users` answers (the fields the adapter reads): `bot` marks project and group bot users. */
export const gitlabUserSchema = z.looseObject({
  id: z.number(),
  username: z.string(),
  bot: z.boolean().optional(),
});

export const gitlabErrorSchema = z.looseObject({
  message: z.unknown().optional(),
  error: z.string().optional(),
  error_description: z.string().optional(),
});

/** A project as `GET /groups/:id/projects` lists it (the fields a clone needs). */
export const gitlabProjectSchema = z.looseObject({
  id: z.number(),
  path_with_namespace: z.string(),
  http_url_to_repo: z.string(),
});
