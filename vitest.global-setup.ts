// Every test run gets its own temporary directory, removed when the run ends: the suite creates hundreds of
// scratch registries, git repositories and data directories through os.tmpdir(), and they used to stay behind.
// Test workers and the processes they start inherit TMPDIR.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export default function setup(): () => void {
  const directory = mkdtempSync(join(tmpdir(), 'keyledger-tests-'));
  const previous = process.env.TMPDIR;
  process.env.TMPDIR = directory;
  return () => {
    if (previous === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = previous;
    if (process.env.KEYLEDGER_KEEP_TEST_FILES) {
      process.stderr.write(`test files kept in ${directory}\n`);
      return;
    }
    rmSync(directory, { recursive: true, force: true });
  };
}
