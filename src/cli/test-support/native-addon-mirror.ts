// For the install test (src/cli/install.test.ts): hands the native addons that the root `npm install` compiled
// (better-sqlite3, re2) to a scratch install through the addons' own documented offline sources — prebuild-install's
// local prebuilds folder, install-artifact-from-github's download mirror (a local folder works) — so the install
// runs their install scripts and load checks without compiling the same C++ again (minutes per install).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

function versionOf(nodeModules: string, name: string): string {
  return (JSON.parse(readFileSync(join(nodeModules, name, 'package.json'), 'utf8')) as { version: string }).version;
}

/** Writes the mirror under `directory` and returns the environment that points the addons' installers at it. */
export function nativeAddonMirror(nodeModules: string, directory: string): Record<string, string> {
  const env: Record<string, string> = {};
  const abi = process.versions.modules;
  const sqlite = join(nodeModules, 'better-sqlite3', 'build', 'Release', 'better_sqlite3.node');
  if (existsSync(sqlite)) {
    const prebuilds = join(directory, 'prebuilds');
    mkdirSync(prebuilds, { recursive: true });
    // prebuild-install's file name for glibc Linux and macOS; elsewhere it finds nothing and compiles.
    const name = `better-sqlite3-v${versionOf(nodeModules, 'better-sqlite3')}-node-v${abi}-${process.platform}-${process.arch}.tar.gz`;
    execFileSync('tar', [
      'czf',
      join(prebuilds, name),
      '-C',
      join(nodeModules, 'better-sqlite3'),
      'build/Release/better_sqlite3.node',
    ]);
    env.npm_config_better_sqlite3_local_prebuilds = prebuilds;
  }
  const re2 = join(nodeModules, 're2', 'build', 'Release', 're2.node');
  if (existsSync(re2)) {
    const mirror = join(directory, 're2');
    mkdirSync(mirror, { recursive: true });
    writeFileSync(
      join(mirror, `${process.platform}-${process.arch}-${abi}.gz`),
      gzipSync(readFileSync(re2), { level: 1 }),
    );
    Object.assign(env, { RE2_DOWNLOAD_MIRROR: mirror, RE2_DOWNLOAD_SKIP_PATH: '1', RE2_DOWNLOAD_SKIP_VER: '1' });
  }
  return env;
}
