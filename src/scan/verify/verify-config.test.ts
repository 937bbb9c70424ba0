// `[rules.verify]` in a TOML config (keyledger's extension of gitleaks' format): a block that can run safely loads
// onto its rule; one that could send the secret to a host of the secret's choosing, or whose outcomes cannot be
// told apart, is refused at load with the rule named (exit 2, E_SCAN_CONFIG), as gitleaks refuses a bad rule.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadScanConfig } from '../config/scan-config-loader.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function configWith(verify: string): { cwd: string; configPath: string } {
  const cwd = mkdtempSync(join(tmpdir(), 'kl-verify-config-'));
  dirs.push(cwd);
  const configPath = join(cwd, 'scan.toml');
  writeFileSync(
    configPath,
    `[extend]\nuseDefault = true\n\n[[rules]]\nid = "acme-token"\ndescription = "Acme API token"\nregex = '''\\b(acme_[0-9a-z]{32})\\b'''\nkeywords = ["acme_"]\n\n${verify}`,
  );
  return { cwd, configPath };
}

describe('[rules.verify] in a config', () => {
  it('loads a block onto its rule, with defaults for method and headers', async () => {
    const { cwd, configPath } = configWith(
      '[rules.verify]\nurl = "https://api.acme.example.com/v1/me?key={{secret}}"\nverified = { status = [200] }\ninvalid = { status = [401, 403] }\n',
    );
    const { ruleSet } = await loadScanConfig({ cwd, env: {}, configPath });
    const rule = ruleSet.rules.find((candidate) => candidate.id === 'acme-token');
    expect(rule?.verify).toEqual({
      method: 'GET',
      url: 'https://api.acme.example.com/v1/me?key={{secret}}',
      headers: {},
      verified: { status: [200] },
      invalid: { status: [401, 403] },
    });
    // The built-in rules keep theirs.
    expect(ruleSet.rules.find((candidate) => candidate.id === 'neon-api-key')?.verify).toBeDefined();
  });

  it.each([
    ['a secret-chosen host', 'url = "https://{{secret}}.acme.example.com/v1"', /fixed host/],
    ['plain http', 'url = "http://api.acme.example.com/v1"', /https/],
    ['an unknown placeholder', 'url = "https://api.acme.example.com/{{password}}"', /unknown placeholder/],
  ])('refuses %s with the rule named', async (_, urlLine, message) => {
    const { cwd, configPath } = configWith(
      `[rules.verify]\n${urlLine}\nverified = { status = [200] }\ninvalid = { status = [401] }\n`,
    );
    const error = await loadScanConfig({ cwd, env: {}, configPath }).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'E_SCAN_CONFIG' });
    expect((error as Error).message).toContain('rule acme-token.verify');
    expect((error as Error).message).toMatch(message);
  });

  it('refuses a block whose verified and invalid answers are the same status without a JSON field', async () => {
    const { cwd, configPath } = configWith(
      '[rules.verify]\nurl = "https://api.acme.example.com/v1"\nverified = { status = [200] }\ninvalid = { status = [200] }\n',
    );
    await expect(loadScanConfig({ cwd, env: {}, configPath })).rejects.toThrow(/both verified and invalid/);
  });
});
