// scripts/prepare-build.mjs, the `prepare` script's build: kept when npm runs `prepare` for `npx keyledger` inside the
// repository (npm_command=exec) with a build in place — npx installs the repository itself into its cache, and a
// rebuild there took ~25 s and removed dist under a running `npm start` — and run for every other npm command. npm is
// stood in for by a script that records it was asked to build (npm_execpath), so no real build runs here.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { packageRoot } from '../runtime/package-paths.js';

const root = packageRoot();
const script = join(root, 'scripts', 'prepare-build.mjs');

function prepare(npmCommand: string): string | undefined {
  const dir = mkdtempSync(join(tmpdir(), 'keyledger-prepare-'));
  const marker = join(dir, 'asked');
  const fakeNpm = join(dir, 'npm-cli.js');
  writeFileSync(
    fakeNpm,
    `require('node:fs').writeFileSync(${JSON.stringify(marker)}, process.argv.slice(2).join(' '));\n`,
  );
  execFileSync(process.execPath, [script], {
    cwd: root,
    env: { PATH: process.env.PATH, npm_command: npmCommand, npm_execpath: fakeNpm },
  });
  return existsSync(marker) ? readFileSync(marker, 'utf8') : undefined;
}

describe('prepare-build', () => {
  it('builds for npm install, ci and pack', () => {
    for (const command of ['install', 'ci', 'pack']) expect(prepare(command)).toBe('run build');
  });

  it('keeps the build in place when npm exec (npx keyledger) installs the repository', () => {
    // `npm install` ran prepare before the suite, so a build is in place.
    expect(existsSync(join(root, 'dist', 'cli', 'main.js'))).toBe(true);
    expect(prepare('exec')).toBeUndefined();
  });
});
