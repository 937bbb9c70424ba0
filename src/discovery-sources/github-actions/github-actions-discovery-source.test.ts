// The GitHub Actions source through @octokit/rest against the GitHub sandbox over real HTTP: organisation,
// repository and environment secrets with their dates, paging past 100, a secondary rate limit waited out, and a
// refused token reported without the token.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GithubSandbox } from '../../sandbox/providers/github/github-sandbox.js';
import { SandboxServer } from '../../sandbox/sandbox-server.js';
import { observeAll, summarise } from '../test-support/discovery-source-harness.js';
import { githubActionsDiscoverySource } from './github-actions-discovery-source.js';

let github: GithubSandbox;
let server: SandboxServer;
let url: string;

beforeAll(async () => {
  github = new GithubSandbox({ org: 'acme', repositories: ['api', 'web'] });
  github.addActionsSecret({ scope: 'org', name: 'npm_token', createdAt: '2025-02-01T00:00:00Z', visibility: 'all' });
  github.addActionsSecret({
    scope: 'repo',
    repo: 'acme/api',
    name: 'STRIPE_KEY',
    createdAt: '2025-03-01T00:00:00Z',
    updatedAt: '2026-06-01T12:00:00Z',
  });
  github.addActionsSecret({
    scope: 'environment',
    repo: 'acme/api',
    environment: 'production',
    name: 'OPENAI_KEY',
    createdAt: '2025-04-01T00:00:00Z',
  });
  github.addActionsSecret({
    scope: 'environment',
    repo: 'acme/web',
    environment: 'staging',
    name: 'SENTRY_DSN',
    createdAt: '2025-04-02T00:00:00Z',
  });
  for (let i = 0; i < 105; i += 1)
    github.addActionsSecret({
      scope: 'repo',
      repo: 'acme/web',
      name: `FLAG_${String(i).padStart(3, '0')}`,
      createdAt: '2025-05-01T00:00:00Z',
    });
  server = new SandboxServer(github, { rateLimit: null });
  url = await server.start();
});
afterAll(() => server.stop());

const env = () => ({ GITHUB_TOKEN: github.installationToken });

describe('github-actions discovery source', () => {
  it('lists organisation, repository and environment secrets with their dates', async () => {
    const seen = await observeAll(githubActionsDiscoverySource, { url, org: 'acme' }, {}, env());
    const flags = seen.filter((o) => o.name.startsWith('FLAG_'));
    expect(flags).toHaveLength(105);
    expect(summarise(seen.filter((o) => !o.name.startsWith('FLAG_')))).toEqual([
      'env acme/api production OPENAI_KEY -> -',
      'env acme/web staging SENTRY_DSN -> -',
      'org acme NPM_TOKEN -> -',
      'repo acme/api STRIPE_KEY -> -',
    ]);
    expect(seen.find((o) => o.name === 'STRIPE_KEY')).toMatchObject({
      createdAt: '2025-03-01T00:00:00.000Z',
      updatedAt: '2026-06-01T12:00:00.000Z',
    });
    expect(seen.find((o) => o.name === 'NPM_TOKEN')?.detail).toEqual({ visibility: 'all' });
  });

  it('reads only the repositories named, and waits out a secondary rate limit', async () => {
    server.faults.add({
      operation: 'github:GET /repos/{owner}/{repo}/actions/secrets',
      kind: 'rate-limit',
      retryAfterSeconds: 1,
      times: 1,
    });
    const seen = await observeAll(githubActionsDiscoverySource, { url, org: 'acme', repos: 'api' }, {}, env());
    expect(summarise(seen)).toEqual([
      'env acme/api production OPENAI_KEY -> -',
      'org acme NPM_TOKEN -> -',
      'repo acme/api STRIPE_KEY -> -',
    ]);
  });

  it('fails on a refused token without printing it', async () => {
    const failure = observeAll(
      githubActionsDiscoverySource,
      { url, org: 'acme' },
      {},
      { GITHUB_TOKEN: 'ghp_wrongwrongwrong' },
    );
    await expect(failure).rejects.toThrow(/Bad credentials/);
    await expect(failure).rejects.not.toThrow(/ghp_wrong/);
  });
});
