// The repository-host table: which providers host repositories (declared in their folder's index.ts), and the
// typed errors for a provider that hosts none or for invalid options (values never echoed).
import { describe, expect, it } from 'vitest';
import { systemClock } from '../runtime/clock.js';
import { createRepositoryHost, repositoryHostNames } from './repository-host-table.js';

describe('repository host table', () => {
  it('names the providers whose registration declares repositories', () => {
    expect(repositoryHostNames()).toEqual(['github', 'gitlab']);
  });

  it('refuses a provider that hosts no repositories, and invalid options without echoing them', async () => {
    await expect(createRepositoryHost('stripe', {}, { clock: systemClock })).rejects.toMatchObject({
      code: 'E_PROVIDER_UNKNOWN',
    });
    const refused = createRepositoryHost('gitlab', { baseUrl: 'not a url glpat-secretvalue' }, { clock: systemClock });
    await expect(refused).rejects.toMatchObject({ code: 'E_PROVIDER_OPTIONS' });
    await expect(refused).rejects.not.toThrow(/glpat-secretvalue/);
  });

  it('builds a host that gives no clone credentials without a token', async () => {
    const host = await createRepositoryHost('github', {}, { clock: systemClock });
    expect(host.gitCredentials()).toBeUndefined();
    await host.close?.();
  });
});
