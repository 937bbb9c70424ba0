// Where the running keyledger lives (node and its bin script) and what version it is, so that what it writes for
// later (the git pre-commit hook, the CI workflow of `init`) runs this same keyledger, not whatever `npx` finds.
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export interface InstalledKeyledger {
  /** The node binary running this process. */
  node: string;
  /** bin/keyledger.js of this installation (this module is src/cli/ or dist/cli/, two levels below the root). */
  script: string;
  /** The version in this installation's package.json. */
  version: string;
}

export function installedKeyledger(): InstalledKeyledger {
  const script = fileURLToPath(new URL('../../bin/keyledger.js', import.meta.url));
  const packageJson = fileURLToPath(new URL('../../package.json', import.meta.url));
  const version = existsSync(packageJson)
    ? String((JSON.parse(readFileSync(packageJson, 'utf8')) as { version?: unknown }).version ?? '')
    : '';
  return { node: process.execPath, script, version };
}

/** `text` as one single-quoted POSIX shell word. */
export function shellQuote(text: string): string {
  return `'${text.replaceAll("'", `'\\''`)}'`;
}
