// GitHub Actions secrets as the REST API lists them: names and dates only (GitHub never returns a value; writes
// need the repository's libsodium public key, which keyledger never does). Repository secrets
// (`GET /repos/{owner}/{repo}/actions/secrets`), organisation secrets (`GET /orgs/{org}/actions/secrets`, with
// `visibility`), environments (`GET /repos/{owner}/{repo}/environments`) and environment secrets
// (`GET /repos/{owner}/{repo}/environments/{environment_name}/secrets`), each answer `{total_count, <list>}` paged
// with `per_page`, `page` and a Link header. Secrets are planted by tests and `load()`, as a person adds them.
import type { SandboxAnswer, SandboxRequest } from '../../sandbox-server.js';

export interface ActionsSecretSpec {
  /** `org`, `repo` (needs `repo`) or `environment` (needs `repo` and `environment`). */
  scope: 'org' | 'repo' | 'environment';
  /** `owner/name`. */
  repo?: string;
  environment?: string;
  name: string;
  createdAt: string;
  updatedAt?: string;
  /** Organisation secrets: `all`, `private` or `selected`. */
  visibility?: 'all' | 'private' | 'selected';
}

interface StoredSecret {
  name: string;
  created_at: string;
  updated_at: string;
  visibility?: string;
}

export class GithubActionsSecrets {
  readonly #org = new Map<string, StoredSecret>();
  readonly #repo = new Map<string, Map<string, StoredSecret>>();
  /** `owner/repo` -> environment name -> secrets. */
  readonly #environments = new Map<string, Map<string, Map<string, StoredSecret>>>();

  add(spec: ActionsSecretSpec): void {
    // GitHub upper-cases secret names.
    const secret: StoredSecret = {
      name: spec.name.toUpperCase(),
      created_at: noMillis(spec.createdAt),
      updated_at: noMillis(spec.updatedAt ?? spec.createdAt),
      ...(spec.scope === 'org' ? { visibility: spec.visibility ?? 'private' } : {}),
    };
    if (spec.scope === 'org') {
      this.#org.set(secret.name, secret);
      return;
    }
    if (!spec.repo) throw new Error('a repository or environment secret needs `repo`');
    if (spec.scope === 'repo') {
      const secrets = this.#repo.get(spec.repo) ?? new Map();
      this.#repo.set(spec.repo, secrets.set(secret.name, secret));
      return;
    }
    if (!spec.environment) throw new Error('an environment secret needs `environment`');
    const environments = this.#environments.get(spec.repo) ?? new Map<string, Map<string, StoredSecret>>();
    this.#environments.set(spec.repo, environments);
    const secrets = environments.get(spec.environment) ?? new Map<string, StoredSecret>();
    environments.set(spec.environment, secrets.set(secret.name, secret));
  }

  orgSecrets(request: SandboxRequest, org: string): SandboxAnswer {
    return wrappedPage(request, 'secrets', sorted(this.#org), `/orgs/${org}/actions/secrets`);
  }

  repoSecrets(request: SandboxRequest, repo: string): SandboxAnswer {
    return wrappedPage(request, 'secrets', sorted(this.#repo.get(repo)), `/repos/${repo}/actions/secrets`);
  }

  environments(request: SandboxRequest, repo: string): SandboxAnswer {
    const names = [...(this.#environments.get(repo)?.keys() ?? [])].sort();
    const environments = names.map((name, index) => ({
      id: 161_088_068 + index,
      node_id: `MDExOkVudmlyb25tZW50${index}`,
      name,
      url: `https://api.github.com/repos/${repo}/environments/${name}`,
      html_url: `https://github.com/${repo}/deployments/activity_log?environments_filter=${name}`,
      created_at: '2024-01-01T00:00:00Z',
      updated_at: '2024-01-01T00:00:00Z',
      protection_rules: [],
      deployment_branch_policy: null,
    }));
    return wrappedPage(request, 'environments', environments, `/repos/${repo}/environments`);
  }

  /** undefined when the environment does not exist (the sandbox answers its 404). */
  environmentSecrets(request: SandboxRequest, repo: string, environment: string): SandboxAnswer | undefined {
    const secrets = this.#environments.get(repo)?.get(environment);
    if (!secrets) return undefined;
    return wrappedPage(request, 'secrets', sorted(secrets), `/repos/${repo}/environments/${environment}/secrets`);
  }
}

function sorted(secrets: Map<string, StoredSecret> | undefined): StoredSecret[] {
  return [...(secrets?.values() ?? [])].sort((a, b) => a.name.localeCompare(b.name));
}

function noMillis(at: string): string {
  return new Date(at).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** GitHub's paging of list endpoints that wrap their items: `{total_count, <key>: [...]}` and a Link header. */
function wrappedPage(request: SandboxRequest, key: string, items: unknown[], path: string): SandboxAnswer {
  const perPage = Math.min(100, Math.max(1, Number(request.query.get('per_page') ?? 30) || 30));
  const page = Math.max(1, Number(request.query.get('page') ?? 1) || 1);
  const last = Math.max(1, Math.ceil(items.length / perPage));
  const base = `http://${request.headers.host ?? '127.0.0.1'}${path}`;
  const headers: Record<string, string> = {};
  if (page < last)
    headers.link = `<${base}?per_page=${perPage}&page=${page + 1}>; rel="next", <${base}?per_page=${perPage}&page=${last}>; rel="last"`;
  return {
    status: 200,
    headers,
    body: { total_count: items.length, [key]: items.slice((page - 1) * perPage, page * perPage) },
  };
}
