import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fixedClock } from '../../runtime/clock.js';
import { BUILTIN_RULES } from '../../scan/rules/builtin-rules.js';
import type { CliContext } from '../cli-context.js';
import { main } from '../main.js';

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function run(cwd: string): CliContext & { out: () => string; err: () => string } {
  let out = '';
  let err = '';
  return {
    stdout: {
      write: (text: string) => {
        out += text;
      },
    },
    stderr: {
      write: (text: string) => {
        err += text;
      },
    },
    cwd,
    env: { ...process.env, KEYLEDGER_SCAN_CONFIG: '', GITLEAKS_CONFIG: '' },
    clock: fixedClock('2026-12-07T00:00:00Z'),
    color: false,
    exitCode: 0,
    out: () => out,
    err: () => err,
  };
}

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'keyledger-scan-rules-'));
  dirs.push(dir);
  return dir;
}

describe('keyledger scan rules', () => {
  it('lists every built-in rule with its keywords, provider and whether it verifies', async () => {
    const context = run(tempDir());
    expect(await main(['node', 'keyledger', 'scan', 'rules', '--json'], context)).toBe(0);
    const listing = JSON.parse(context.out()) as {
      config: string | null;
      rules: Array<{ id: string; keywords: string[]; provider: string | null; verifies: boolean }>;
    };
    expect(listing.config).toBeNull();
    expect(listing.rules.map((rule) => rule.id)).toEqual(BUILTIN_RULES.map((rule) => rule.id));
    expect(listing.rules.find((rule) => rule.id === 'github-pat')).toMatchObject({
      keywords: ['ghp_'],
      provider: 'github',
      verifies: true,
    });
    expect(listing.rules.find((rule) => rule.id === 'generic-api-key')).toMatchObject({
      provider: null,
      verifies: false,
      verifiesBy: null,
    });
    expect(listing.rules.find((rule) => rule.id === 'neon-api-key')).toMatchObject({
      provider: null,
      verifies: true,
      verifiesBy: 'verify-block',
      verifyHost: 'console.neon.tech',
    });
    const byBlock = listing.rules.filter((rule) => (rule as { verifiesBy?: string }).verifiesBy === 'verify-block');
    expect(byBlock.length).toBeGreaterThanOrEqual(100);

    const table = run(tempDir());
    expect(await main(['node', 'keyledger', 'scan', 'rules'], table)).toBe(0);
    expect(table.out()).toMatch(/^ID\s+PROVIDER\s+VERIFIES/);
    expect(table.out()).toContain(`${BUILTIN_RULES.length} rules, `);
    expect(table.out()).toMatch(/through a provider adapter, \d{3} through a verify block\n$/);
  });

  it('applies a config: the one found in the directory, or --config', async () => {
    const dir = tempDir();
    writeFileSync(
      join(dir, '.gitleaks.toml'),
      '[extend]\nuseDefault = true\ndisabledRules = ["generic-api-key"]\n[[rules]]\nid = "myorg-key"\ndescription = "myorg"\nregex = \'\'\'myorg_[0-9a-f]{32}\'\'\'\nkeywords = ["myorg_"]\n',
    );
    writeFileSync(join(dir, 'only.toml'), '[[rules]]\nid = "only"\nregex = "x{10}"\n');
    const found = run(dir);
    expect(await main(['node', 'keyledger', 'scan', 'rules', '--json'], found)).toBe(0);
    const ids = (JSON.parse(found.out()) as { rules: Array<{ id: string }> }).rules.map((rule) => rule.id);
    expect(ids).toContain('myorg-key');
    expect(ids).not.toContain('generic-api-key');
    expect(ids).toHaveLength(BUILTIN_RULES.length);

    const given = run(dir);
    expect(await main(['node', 'keyledger', 'scan', 'rules', '--config', 'only.toml', '--json'], given)).toBe(0);
    expect((JSON.parse(given.out()) as { rules: Array<{ id: string }> }).rules.map((rule) => rule.id)).toEqual([
      'only',
    ]);
  });

  it('refuses a config gitleaks refuses, with exit 2 and the rule named', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'bad.toml'), '[[rules]]\nid = "two-groups"\nregex = "(a)b"\nsecretGroup = 2\n');
    const context = run(dir);
    expect(await main(['node', 'keyledger', 'scan', 'rules', '--config', 'bad.toml'], context)).toBe(2);
    expect(context.err()).toContain('two-groups');
    expect(context.err()).toContain('secretGroup 2');
  });
});
