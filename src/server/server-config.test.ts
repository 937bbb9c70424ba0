// The server's configuration: file under environment under flags, and a bad value refused at start with where it
// came from and what was expected.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadServerConfig } from './server-config.js';

describe('loadServerConfig', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'keyledger-server-config-'));
    await writeFile(join(dir, 'server.yaml'), 'host: 0.0.0.0\nport: 9000\nlogLevel: warn\n');
    await writeFile(join(dir, 'bad.yaml'), 'port: lots\nlisten: everywhere\n');
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('takes defaults, then the file, then the environment, then flags', async () => {
    expect(await loadServerConfig({ env: {}, cwd: dir })).toMatchObject({
      host: '127.0.0.1',
      port: 8080,
      logLevel: 'info',
    });
    expect(await loadServerConfig({ env: { KEYLEDGER_SERVER_CONFIG: 'server.yaml' }, cwd: dir })).toMatchObject({
      host: '0.0.0.0',
      port: 9000,
      logLevel: 'warn',
    });
    const layered = await loadServerConfig({
      env: {
        KEYLEDGER_SERVER_CONFIG: 'server.yaml',
        KEYLEDGER_SERVER_PORT: '9100',
        KEYLEDGER_SERVER_TRUST_PROXY: 'true',
      },
      cwd: dir,
      overrides: { host: '127.0.0.2', port: undefined },
    });
    expect(layered).toMatchObject({ host: '127.0.0.2', port: 9100, logLevel: 'warn', trustProxy: true });
  });

  it('refuses bad values naming their source and field', async () => {
    await expect(loadServerConfig({ env: {}, cwd: dir, file: 'bad.yaml' })).rejects.toMatchObject({
      code: 'E_SERVER_CONFIG',
      message: expect.stringMatching(/bad\.yaml: port.*number[\s\S]*listen/),
    });
    await expect(loadServerConfig({ env: { KEYLEDGER_SERVER_PORT: '70000' }, cwd: dir })).rejects.toMatchObject({
      message: expect.stringContaining('KEYLEDGER_SERVER_PORT (port)'),
    });
    await expect(loadServerConfig({ env: { KEYLEDGER_PUBLIC_URL: 'not a url' }, cwd: dir })).rejects.toMatchObject({
      message: expect.stringContaining('KEYLEDGER_PUBLIC_URL (publicUrl)'),
    });
    await expect(loadServerConfig({ env: {}, cwd: dir, file: 'missing.yaml' })).rejects.toMatchObject({
      code: 'E_SERVER_CONFIG',
      message: expect.stringContaining('cannot read the server configuration'),
    });
  });

  it('turns scheduled jobs on only when configured, with paths from the working folder and cron checked', async () => {
    expect((await loadServerConfig({ env: {}, cwd: dir })).jobs).toEqual({});
    await writeFile(
      join(dir, 'jobs.yaml'),
      'jobs:\n  discovery:\n    schedule: "0 3 * * *"\n  auditLogIngest:\n    schedule: "*/15 * * * *"\n    paths: [logs/cloudtrail]\n',
    );
    const config = await loadServerConfig({ env: {}, cwd: dir, file: 'jobs.yaml' });
    expect(config.jobs).toEqual({
      discovery: { schedule: '0 3 * * *' },
      auditLogIngest: {
        schedule: '*/15 * * * *',
        paths: [join(dir, 'logs/cloudtrail')],
        format: 'auto',
        minAgeSeconds: 300,
      },
    });
    await writeFile(join(dir, 'bad-jobs.yaml'), 'jobs:\n  auditLogIngest:\n    schedule: hourly\n    paths: []\n');
    const refused = loadServerConfig({ env: {}, cwd: dir, file: 'bad-jobs.yaml' });
    await expect(refused).rejects.toThrow(/bad-jobs\.yaml: jobs\.auditLogIngest\.schedule.*: not a cron expression/);
    await expect(refused).rejects.toThrow(/jobs\.auditLogIngest\.paths/);
  });
});
