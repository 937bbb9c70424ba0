// `token_id` names the acting credential only on events made with a token: a grant done in the web UI names the
// token it grants, which is not a use of that token.
import { describe, expect, it } from 'vitest';
import { githubAuditLogReader } from './github-audit-log-reader.js';

const base = {
  '@timestamp': 1_764_000_000_000,
  _document_id: 'doc1',
  actor: 'octocat',
  org: 'acme',
  token_id: 1063,
};

describe('github reader: token_id', () => {
  it('is the credential of a request made with a token', () => {
    const record = githubAuditLogReader.read({
      ...base,
      action: 'repo.create',
      hashed_token: 'rHS2wqG1Yx0MDpwU1MZAHt3OOZ+VmzGUjnvKzlaLfUw=',
      programmatic_access_type: 'Fine-grained personal access token',
    });
    expect(typeof record === 'object' && record.credential?.providerKeyId).toBe('1063');
  });

  it('is not a credential on a personal_access_token event done in the web UI', () => {
    const record = githubAuditLogReader.read({ ...base, action: 'personal_access_token.access_granted' });
    expect(typeof record === 'object' && record.credential).toBeUndefined();
  });
});
