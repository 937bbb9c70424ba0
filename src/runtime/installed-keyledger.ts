// Where the running keyledger lives (node and its bin script) and what version it is, so that what it writes for
// later (the git pre-commit hook, the CI workflow of `init`) runs this same keyledger, not whatever `npx` finds.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from './package-paths.js';

export interface InstalledKeyledger {
  /** The node binary running this process. */
  node: string;
  /** bin/keyledger.js of this installation. */
  script: string;
  /** The version in this installation's package.json. */
  version: string;
}

export function installedKeyledger(): InstalledKeyledger {
  const root = packageRoot();
  const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
  return { node: process.execPath, script: join(root, 'bin', 'keyledger.js'), version: manifest.version };
}

/** `text` as one single-quoted POSIX shell word. */
export function shellQuote(text: string): string {
  return `'${text.replaceAll("'", `'\\''`)}'`;
}
