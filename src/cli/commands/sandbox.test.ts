// `keyledger sandbox` in-process: prints the URLs as one JSON line, serves until SIGTERM, then stops cleanly.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { describe, expect, it } from 'vitest';
import { fixedClock } from '../../runtime/clock.js';
import type { CliContext } from '../cli-context.js';
import { main } from '../main.js';

function captureContext(cwd: string): CliContext & { out: () => string } {
  let out = '';
  return {
    stdout: {
      write: (text: string) => {
        out += text;
      },
    },
    stderr: { write: () => undefined },
    cwd,
    env: {},
    clock: fixedClock('2026-11-23T00:00:00Z'),
    color: false,
    exitCode: 0,
    out: () => out,
  };
}

describe('keyledger sandbox', () => {
  it('starts the sandboxes, prints a JSON line with the URLs, and stops on SIGTERM', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'keyledger-sandbox-cli-'));
    try {
      const context = captureContext(dir);
      const running = main(
        ['node', 'keyledger', 'sandbox', '--org', 'small', '--seed', '5', '--json', '--out', 'out'],
        context,
      );
      let line: { urls: Record<string, string>; sandboxFile: string } | undefined;
      for (let i = 0; i < 200 && !line; i++) {
        await new Promise((resolve) => setTimeout(resolve, 25));
        const first = context.out().split('\n')[0];
        if (first) line = JSON.parse(first);
      }
      expect(line?.sandboxFile).toBe(join(dir, 'out', 'sandbox.json'));
      const health = await request(`${line!.urls.github}/__sandbox/health`);
      expect(await health.body.json()).toMatchObject({ provider: 'github' });
      process.emit('SIGTERM');
      expect(await running).toBe(0);
      await expect(request(`${line!.urls.github}/__sandbox/health`)).rejects.toThrow();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('refuses an unknown organisation profile as a usage error', async () => {
    const context = captureContext(tmpdir());
    expect(await main(['node', 'keyledger', 'sandbox', '--org', 'huge'], context)).toBe(2);
  });
});
