import { afterAll, describe, expect, it } from 'vitest';
import { builtinRuleSet } from '../rules/builtin-rules.js';
import { fakeChars, githubToken } from '../rules/canary-secrets.js';
import { scanGitHistory, scanStaged } from '../scanner.js';
import { ScratchGitRepo } from './scratch-git-repo.js';

const repos: ScratchGitRepo[] = [];
afterAll(() => {
  for (const repo of repos) repo.remove();
});

function newRepo(): ScratchGitRepo {
  const repo = new ScratchGitRepo();
  repos.push(repo);
  return repo;
}

const ruleSet = builtinRuleSet();
const tokenA = githubToken('ghp', 101);
const tokenB = githubToken('ghp', 102);
const tokenC = githubToken('ghp', 103);
const stripeKey = ['sk_live_', fakeChars(104, 30)].join('');

describe('git history scan', () => {
  it('finds secrets added, later removed and renamed, once each, with commit metadata', async () => {
    const repo = newRepo();
    repo.write('README.md', '# demo\n').commit('initial');
    const added = repo.write('config/app.env', `A=1\nGITHUB_TOKEN=${tokenA}\n`).commit('add config', {
      name: 'Grace Hopper',
      email: 'grace@example.com',
    });
    repo.write('config/app.env', 'A=1\n').commit('remove the token');
    repo.git('mv', 'config/app.env', 'config/renamed.env');
    repo.commit('rename');
    const later = repo
      .write('config/renamed.env', `A=1\nB=2\n\nSTRIPE=${stripeKey}\n`)
      .commit('add stripe key\n\nlong body');

    const outcome = await scanGitHistory(repo.dir, {}, { ruleSet, env: repo.env });
    const findings = outcome.findings.map((f) => ({
      rule: f.ruleId,
      file: f.file,
      line: f.startLine,
      secret: f.secret,
      commit: f.commit?.sha,
    }));
    expect(findings).toHaveLength(2);
    expect(findings).toContainEqual({
      rule: 'github-pat',
      file: 'config/app.env',
      line: 2,
      secret: tokenA,
      commit: added,
    });
    expect(findings).toContainEqual({
      rule: 'stripe-access-token',
      file: 'config/renamed.env',
      line: 4,
      secret: stripeKey,
      commit: later,
    });
    const github = outcome.findings.find((f) => f.ruleId === 'github-pat');
    expect(github?.commit).toMatchObject({ author: 'Grace Hopper', email: 'grace@example.com', message: 'add config' });
    expect(github?.commit?.date).toMatch(/^\d{4}-\d{2}-\d{2}T/);
    expect(outcome.findings.find((f) => f.ruleId === 'stripe-access-token')?.commit?.message).toBe(
      'add stripe key\n\nlong body',
    );
    expect(outcome.commits).toBe(5);

    const since = await scanGitHistory(repo.dir, { since: added }, { ruleSet, env: repo.env });
    expect(since.findings.map((f) => f.ruleId)).toEqual(['stripe-access-token']);
  });

  it('finds secrets on merged branches, in merge resolutions, and on other refs with --all', async () => {
    const repo = newRepo();
    repo.write('app.txt', 'base\n').commit('initial');
    repo.git('checkout', '-q', '-b', 'feature');
    const onBranch = repo.write('feature.txt', `token = ${tokenA}\n`).commit('feature work');
    repo.write('app.txt', 'feature side\n').commit('feature edits app');
    repo.git('checkout', '-q', 'main');
    repo.write('app.txt', 'main side\n').commit('main edits app');
    // Conflicting merge, resolved by hand with a secret nobody wrote on either side.
    try {
      repo.git('merge', '-q', 'feature', '-m', 'merge feature');
    } catch {
      // The conflict is expected.
    }
    repo.write('app.txt', `resolved\nGITHUB_TOKEN=${tokenB}\n`);
    repo.git('add', '-A');
    repo.git('commit', '-q', '--no-edit');
    const merge = repo.git('rev-parse', 'HEAD');
    repo.git('checkout', '-q', '-b', 'unmerged');
    repo.write('other.txt', `t=${tokenC}\n`).commit('unmerged branch');
    repo.git('checkout', '-q', 'main');

    const head = await scanGitHistory(repo.dir, {}, { ruleSet, env: repo.env });
    const bySecret = new Map(head.findings.map((f) => [f.secret, f]));
    expect(bySecret.get(tokenA)?.commit?.sha).toBe(onBranch);
    expect(bySecret.get(tokenB)?.commit?.sha).toBe(merge);
    expect(bySecret.get(tokenB)?.file).toBe('app.txt');
    expect(bySecret.has(tokenC)).toBe(false);
    expect(head.findings).toHaveLength(2);

    const all = await scanGitHistory(repo.dir, { all: true }, { ruleSet, env: repo.env });
    expect(all.findings.map((f) => f.secret).sort()).toEqual([tokenA, tokenB, tokenC].sort());

    const noMerges = await scanGitHistory(repo.dir, { mergeDiffs: false }, { ruleSet, env: repo.env });
    expect(noMerges.findings.map((f) => f.secret)).toEqual([tokenA]);
  });

  it('finds the same on worker threads when a commit is larger than a chunk and is cut at its files', async () => {
    const repo = newRepo();
    repo.write('README.md', '# demo\n').commit('initial');
    // ~3 MB in one commit (chunks are cut at 2 MB), with secrets in files on both sides of every cut.
    const filler = `${'const value = compute(alpha, beta, gamma); // filler line of ordinary code\n'.repeat(1400)}`;
    const planted = new Map<string, string>();
    for (let file = 0; file < 30; file++) {
      const token = githubToken('ghp', 200 + file);
      planted.set(token, `src/file-${file}.js`);
      repo.write(`src/file-${file}.js`, `${filler}token = ${token}\n${filler}`);
    }
    const big = repo.commit('one large commit');
    repo.write('later.txt', `t=${tokenA}\n`).commit('a later commit');

    const summary = (outcome: Awaited<ReturnType<typeof scanGitHistory>>) =>
      outcome.findings.map((f) => `${f.commit?.sha} ${f.file}:${f.startLine} ${f.secret}`).sort();
    const onThreads = await scanGitHistory(repo.dir, {}, { ruleSet, env: repo.env, threads: 2 });
    const here = await scanGitHistory(repo.dir, {}, { ruleSet, env: repo.env, threads: 0 });
    expect(summary(onThreads)).toEqual(summary(here));
    expect(onThreads.findings).toHaveLength(31);
    for (const finding of onThreads.findings.filter((f) => f.secret !== tokenA)) {
      expect(planted.get(finding.secret)).toBe(finding.file);
      expect(finding.startLine).toBe(1401);
      expect(finding.commit?.sha).toBe(big);
      expect(finding.commit?.message).toBe('one large commit');
    }
    // The large commit's header is repeated in the chunks it was cut into, and still counted once.
    expect(onThreads.commits).toBe(3);
    expect(here.commits).toBe(3);
  }, 180_000);

  it('scans only what is staged', async () => {
    const repo = newRepo();
    repo.write('a.txt', `old=${tokenA}\n`).commit('committed secret');
    repo.write('b.txt', `x\nnew=${tokenB}\n`);
    repo.write('c.txt', `unstaged=${tokenC}\n`);
    repo.git('add', 'b.txt');
    const outcome = await scanStaged(repo.dir, { ruleSet, env: repo.env });
    expect(outcome.findings.map((f) => [f.file, f.startLine, f.secret])).toEqual([['b.txt', 2, tokenB]]);
    expect(outcome.findings[0]?.commit).toBeUndefined();
  });

  it('reports a directory that is not a repository as an error', async () => {
    await expect(scanGitHistory('/nonexistent-keyledger', {}, { ruleSet })).rejects.toThrow(/not a git repository/);
  });
});
