// GitLab CI/CD variables of projects and groups (`GET /api/v4/projects/:id/variables`, `GET /api/v4/groups/:id/
// variables`, paged by `x-next-page`). GitLab returns each variable's value (unless it is hidden): the value is
// matched to the registry by fingerprint and dropped. GitLab keeps no dates on variables, so none are reported.
// Variables whose value matches no entry are reported when their name says they hold a secret or they are masked.

import { UsageError } from '../../errors/keyledger-error.js';
import { getJson } from '../discovery-http.js';
import type { DiscoverySource, SecretObservation } from '../discovery-source.js';
import { SECRET_LIKE_NAME, tokenFromEnv } from '../discovery-source.js';

export const gitlabCiDiscoverySource: DiscoverySource = {
  name: 'gitlab-ci',
  description: 'GitLab CI/CD variables of projects and groups (values matched by fingerprint, never kept)',
  options: {
    url: { description: 'the GitLab address (default https://gitlab.com)' },
    projects: { description: 'project ids or paths (group/name), comma-separated' },
    groups: { description: 'group ids or paths, comma-separated' },
    'token-env': { description: 'the environment variable holding the token (default GITLAB_TOKEN)' },
  },
  async *observe(context) {
    const base = `${(context.options.url ?? 'https://gitlab.com').replace(/\/+$/, '')}/api/v4`;
    const headers = { 'private-token': tokenFromEnv(context, 'GITLAB_TOKEN') };
    const split = (value?: string) =>
      (value ?? '')
        .split(',')
        .map((v) => v.trim())
        .filter(Boolean);
    const owners = [
      ...split(context.options.groups).map((id) => ({ kind: 'groups', id })),
      ...split(context.options.projects).map((id) => ({ kind: 'projects', id })),
    ];
    if (owners.length === 0) throw new UsageError('gitlab-ci needs --source-option projects=... or groups=...');
    for (const owner of owners) {
      for (let page: string | null = '1'; page; ) {
        const answer = await getJson(
          `${base}/${owner.kind}/${encodeURIComponent(owner.id)}/variables?per_page=100&page=${page}`,
          headers,
          {
            what: `GitLab (${owner.kind}/${owner.id}/variables)`,
            describe: (body) => {
              const message = (body as { message?: unknown } | undefined)?.message;
              return typeof message === 'string' ? message : undefined;
            },
          },
        );
        for (const variable of Array.isArray(answer.body) ? (answer.body as Array<Record<string, unknown>>) : []) {
          if (typeof variable.key !== 'string') continue;
          const keyId = typeof variable.value === 'string' ? context.matchSecret(variable.value.trim()) : undefined;
          if (!keyId && variable.masked !== true && variable.hidden !== true && !SECRET_LIKE_NAME.test(variable.key))
            continue;
          const scope = typeof variable.environment_scope === 'string' ? variable.environment_scope : undefined;
          const observation: SecretObservation = {
            location: `${owner.kind === 'groups' ? 'group' : 'project'} ${owner.id}${scope && scope !== '*' ? ` env ${scope}` : ''}`,
            name: variable.key,
            ...(keyId ? { keyId } : {}),
            detail: {
              masked: variable.masked === true,
              protected: variable.protected === true,
              hidden: variable.hidden === true,
            },
          };
          yield observation;
        }
        page = answer.headers.get('x-next-page') || null;
      }
    }
  },
};
