// GitHub Actions secrets of an organisation through @octokit/rest: organisation secrets, then for each repository
// (all of the organisation's, or those named) its repository secrets, its environments and each environment's
// secrets. GitHub returns names and dates only, never values: these observations say where a key is configured
// and when it last changed (a secret older than the key's last rotation is a consumer still on the old key).
// GitHub's rate limits (403 or 429 with Retry-After) are waited out, at most five times per call.
import { Octokit } from '@octokit/rest';
import { realSleep } from '../../runtime/retry-policy.js';
import type { DiscoverySource, SecretObservation } from '../discovery-source.js';
import { requiredOption, tokenFromEnv } from '../discovery-source.js';

const ATTEMPTS = 5;
const MAX_WAIT_MS = 60_000;

interface ListedSecret {
  name: string;
  created_at: string;
  updated_at: string;
  visibility?: string;
}

export const githubActionsDiscoverySource: DiscoverySource = {
  name: 'github-actions',
  description: 'GitHub Actions secrets (organisation, repository, environment): names and dates',
  options: {
    org: { description: 'the organisation', required: true },
    url: { description: 'the API base URL (default https://api.github.com; GitHub Enterprise: https://HOST/api/v3)' },
    repos: { description: 'only these repositories, comma-separated (default: every repository of the organisation)' },
    'token-env': { description: 'the environment variable holding the token (default GITHUB_TOKEN)' },
  },
  async *observe(context) {
    const org = requiredOption(context, 'org');
    const octokit = new Octokit({
      baseUrl: (context.options.url ?? 'https://api.github.com').replace(/\/+$/, ''),
      auth: tokenFromEnv(context, 'GITHUB_TOKEN'),
      userAgent: 'keyledger-discover',
      log: { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} },
    });
    octokit.hook.wrap('request', async (request, options) => {
      for (let attempt = 1; ; attempt += 1) {
        try {
          return await request(options);
        } catch (error) {
          const { status, response } = error as { status?: number; response?: { headers?: Record<string, string> } };
          const retryAfter = Number(response?.headers?.['retry-after']);
          const limited = status === 429 || (status === 403 && Number.isFinite(retryAfter));
          if (!limited || attempt >= ATTEMPTS) throw error;
          await realSleep(Math.min(Number.isFinite(retryAfter) ? retryAfter * 1000 : 1000 * attempt, MAX_WAIT_MS));
        }
      }
    });
    const observe = (location: string, secret: ListedSecret): SecretObservation => ({
      location,
      name: secret.name,
      createdAt: new Date(secret.created_at).toISOString(),
      updatedAt: new Date(secret.updated_at).toISOString(),
      ...(secret.visibility ? { detail: { visibility: secret.visibility } } : {}),
    });
    for (const secret of await octokit.paginate(octokit.rest.actions.listOrgSecrets, { org, per_page: 100 }))
      yield observe(`org ${org}`, secret);
    const repos = context.options.repos
      ? context.options.repos
          .split(',')
          .map((name) => name.trim())
          .filter(Boolean)
      : (await octokit.paginate(octokit.rest.repos.listForOrg, { org, per_page: 100 })).map((repo) => repo.name);
    for (const repo of repos) {
      for (const secret of await octokit.paginate(octokit.rest.actions.listRepoSecrets, {
        owner: org,
        repo,
        per_page: 100,
      }))
        yield observe(`repo ${org}/${repo}`, secret);
      // The endpoint answers `{total_count, environments}`, which paginate flattens to the list (its types do not say so).
      const environments = (await octokit.paginate(octokit.rest.repos.getAllEnvironments, {
        owner: org,
        repo,
        per_page: 100,
      })) as unknown as Array<{ name: string }>;
      for (const environment of environments) {
        const secrets = await octokit.paginate(octokit.rest.actions.listEnvironmentSecrets, {
          owner: org,
          repo,
          environment_name: environment.name,
          per_page: 100,
        });
        for (const secret of secrets) yield observe(`env ${org}/${repo} ${environment.name}`, secret);
      }
    }
  },
};
