// What `keyledger scan org` remembers between runs: per repository, the last commit it scanned, so the next run
// scans only what is new (`<last>..HEAD`). Written whole to a temporary file and renamed, so an interrupted run
// leaves the previous state, never half of one; a repository whose scan failed keeps its old entry and is
// scanned again next time.
import { existsSync } from 'node:fs';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { z } from 'zod';
import { KeyledgerError } from '../../errors/keyledger-error.js';

const stateSchema = z.object({
  version: z.literal(1),
  repositories: z.record(
    z.string(),
    z.object({ lastCommit: z.string().regex(/^[0-9a-f]{40,64}$/), scannedAt: z.string() }),
  ),
});

export type OrgScanState = z.infer<typeof stateSchema>;

export function emptyOrgScanState(): OrgScanState {
  return { version: 1, repositories: {} };
}

export async function loadOrgScanState(path: string): Promise<OrgScanState> {
  if (!existsSync(path)) return emptyOrgScanState();
  const parsed = stateSchema.safeParse(JSON.parse(await readFile(path, 'utf8').catch(() => '{}')));
  if (!parsed.success) {
    throw new KeyledgerError('E_SCAN_ORG_STATE', `${path} is not an org-scan state file (version 1)`, {
      category: 'config',
    });
  }
  return parsed.data;
}

export async function saveOrgScanState(path: string, state: OrgScanState): Promise<void> {
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
  await rename(temporary, path);
}
