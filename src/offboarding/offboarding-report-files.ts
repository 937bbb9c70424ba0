// Where finished offboarding reports are kept for people to read: `<data folder>/offboarding/<email>.{md,json}`,
// written by `keyledger offboard` and by the server's offboarding module alike.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type OffboardingReport, renderOffboardingMarkdown } from './offboarding-report.js';

export async function writeOffboardingReport(dataDir: string, report: OffboardingReport): Promise<void> {
  const folder = join(dataDir, 'offboarding');
  await mkdir(folder, { recursive: true });
  const base = join(folder, report.email.replace(/[^A-Za-z0-9@._-]/g, '_'));
  await writeFile(`${base}.json`, `${JSON.stringify(report, null, 2)}\n`);
  await writeFile(`${base}.md`, renderOffboardingMarkdown(report));
}
