// The GitLab CI/CD variables source against the GitLab sandbox over real HTTP: project and group variables,
// values matched by fingerprint and never reported, paging, hidden variables, a 404 named.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GitlabSandbox } from '../../sandbox/providers/gitlab/gitlab-sandbox.js';
import { SandboxServer } from '../../sandbox/sandbox-server.js';
import { observeAll, summarise } from '../test-support/discovery-source-harness.js';
import { gitlabCiDiscoverySource } from './gitlab-ci-discovery-source.js';

const DATADOG = 'CANARYgitlabdd0123456789abcdef01';
const AWS_SECRET = 'CANARYgitlabAwsSecret/abcdefghijklmnopqrstu';
let gitlab: GitlabSandbox;
let server: SandboxServer;
let url: string;

beforeAll(async () => {
  gitlab = new GitlabSandbox({ projects: [42], groups: [7] });
  gitlab.addVariable(
    { project: 42 },
    { key: 'DD_API_KEY', value: DATADOG, masked: true, environmentScope: 'production' },
  );
  gitlab.addVariable({ project: 42 }, { key: 'LOG_LEVEL', value: 'info' });
  gitlab.addVariable({ group: 7 }, { key: 'DEPLOY_CREDS', value: AWS_SECRET, protected: true });
  gitlab.addVariable({ group: 7 }, { key: 'VAULTED', value: 'x', hidden: true });
  for (let i = 0; i < 130; i += 1) gitlab.addVariable({ group: 7 }, { key: `FEATURE_${i}`, value: 'on' });
  server = new SandboxServer(gitlab, { rateLimit: null });
  url = await server.start();
});
afterAll(() => server.stop());

describe('gitlab-ci discovery source', () => {
  it('matches project and group variables by fingerprint, across pages', async () => {
    const seen = await observeAll(
      gitlabCiDiscoverySource,
      { url, projects: '42', groups: '7' },
      { 'obs-datadog': DATADOG, 'deploy-aws': AWS_SECRET },
      { GITLAB_TOKEN: gitlab.adminToken },
    );
    expect(summarise(seen)).toEqual([
      'group 7 DEPLOY_CREDS -> deploy-aws',
      'group 7 VAULTED -> -',
      'project 42 env production DD_API_KEY -> obs-datadog',
    ]);
    expect(seen.find((o) => o.name === 'VAULTED')?.detail).toEqual({ masked: true, protected: false, hidden: true });
    expect(server.requestCounts()['gitlab:GET /groups/:id/variables']).toBe(2);
  });

  it('names the project GitLab does not know, and asks for a project or group', async () => {
    await expect(
      observeAll(gitlabCiDiscoverySource, { url, projects: '999' }, {}, { GITLAB_TOKEN: gitlab.adminToken }),
    ).rejects.toThrow(/projects\/999\/variables\) answered 404: 404 Project Not Found/);
    await expect(observeAll(gitlabCiDiscoverySource, { url }, {}, { GITLAB_TOKEN: gitlab.adminToken })).rejects.toThrow(
      /projects=/,
    );
  });
});
