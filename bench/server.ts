// bench/server.ts — the HTTP API's figures on a registry of 100,000 keys: requests per second and p99 latency of
//   list      GET /api/v1/keys?limit=50 (the first page; the security role sees every key)
//   list-team GET /api/v1/keys?team=payments&limit=50 (a member's page: the index's group of that team)
//   page      GET /api/v1/keys?limit=50&cursor=... (a page from the middle, by cursor)
//   show      GET /api/v1/keys/<id> (a different key each request)
//   dashboard      GET / (the dashboard's inventory, first page, as the local admin: every key visible)
//   dashboard-team GET /?team=payments (the inventory filtered to one team: the snapshot index's group)
// (the dashboard's runs last: signing in first loads its registry snapshot and runs the audit over it)
// with autocannon in this process against `keyledger server` in its own (so the load generator does not share the
// server's event loop). Also: the server's start (the registry loaded on worker threads) until /readyz answers.
// Run: `npx tsx bench/server.ts [--keys 100000] [--duration 10] [--connections 10]`; `--keys 2000 --duration 3`
// is the quick check.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { openKeyledgerApp } from '../src/app/keyledger-app.js';
import { runGit } from '../src/git/git-command.js';
import { renderNewEntry, teamEntryFile } from '../src/registry/registry-writer.js';
import { systemClock } from '../src/runtime/clock.js';
import { ApiTokens } from '../src/server/auth/api-tokens.js';
import { hashPassword, LOCAL_ADMIN_FILE_NAME } from '../src/web/local-admin.js';

const args = process.argv.slice(2);
const option = (name: string, fallback: number) =>
  args.includes(name) ? Number(args[args.indexOf(name) + 1]) : fallback;
const KEYS = option('--keys', 100_000);
const DURATION = option('--duration', 10);
const CONNECTIONS = option('--connections', 10);
const TEAMS = ['payments', 'search', 'platform', 'data', 'growth', 'mobile', 'infra', 'security', 'billing', 'chat'];
const MAIN_MODULE = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));
const TSX = fileURLToPath(new URL('../node_modules/.bin/tsx', import.meta.url));
const GIT_ENV = {
  GIT_AUTHOR_NAME: 'bench',
  GIT_AUTHOR_EMAIL: 'bench@example.com',
  GIT_COMMITTER_NAME: 'bench',
  GIT_COMMITTER_EMAIL: 'bench@example.com',
};

const keyIdOf = (i: number) => `${TEAMS[i % TEAMS.length]}-svc-${String(i).padStart(6, '0')}`;

async function main(): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), 'keyledger-bench-server-'));
  const registry = join(root, 'registry');
  process.stderr.write(`server bench: ${KEYS} keys, ${DURATION} s per endpoint, ${CONNECTIONS} connections\n`);
  let serverPid: number | undefined;
  try {
    mkdirSync(join(registry, 'keys'), { recursive: true });
    writeFileSync(join(registry, 'keyledger.config.yaml'), 'policy: {}\n');
    writeFileSync(join(registry, '.gitignore'), '.keyledger/\n');
    for (let i = 0; i < KEYS; i++) {
      const team = TEAMS[i % TEAMS.length]!;
      const keyId = keyIdOf(i);
      const file = join(registry, teamEntryFile(team, keyId));
      if (i < TEAMS.length) mkdirSync(dirname(file), { recursive: true });
      writeFileSync(
        file,
        renderNewEntry({
          key_id: keyId,
          purpose: `bench key ${i}`,
          owner_team: team,
          owner_individual: `owner${i % 500}@example.com`,
          created_at: '2026-06-01T00:00:00Z',
          expiration: '2027-06-01T00:00:00Z',
          last_rotated: '2026-06-01T00:00:00Z',
          status: 'active',
          scope: { provider: 'internal', account_id: `svc-${i}`, permissions: ['read'] },
          storage: { store: 'default', path: `${team}/${keyId}` },
          audit: { rotation_frequency_days: 90, last_audit: '2026-10-01' },
        }),
      );
    }
    await runGit(['init', '--quiet', '--initial-branch=main'], { cwd: registry, env: GIT_ENV });
    // No automatic gc: after committing 100,000 loose objects git starts a detached `gc --auto`, outside the
    // server's process group, that was still writing .git when the bench removed the registry (ENOTEMPTY, files left).
    await runGit(['config', 'gc.auto', '0'], { cwd: registry, env: GIT_ENV });
    await runGit(['add', '-A'], { cwd: registry, env: GIT_ENV });
    await runGit(['commit', '--quiet', '-m', 'bench registry'], { cwd: registry, env: GIT_ENV });
    const env = {
      ...GIT_ENV,
      KEYLEDGER_DATA_DIR: join(registry, '.keyledger'),
      KEYLEDGER_MASTER_KEY: randomBytes(32).toString('base64'),
      KEYLEDGER_SERVER_LOG_LEVEL: 'warn',
    };
    // The dashboard's local admin (src/web/local-admin.ts), so the bench can sign in and read the inventory.
    const adminEmail = 'bench-admin@example.com';
    const adminPassword = randomBytes(18).toString('base64url');
    mkdirSync(env.KEYLEDGER_DATA_DIR, { recursive: true });
    writeFileSync(
      join(env.KEYLEDGER_DATA_DIR, LOCAL_ADMIN_FILE_NAME),
      JSON.stringify({ email: adminEmail, passwordHash: await hashPassword(adminPassword) }),
    );
    const app = await openKeyledgerApp({ registryDir: registry, env, cwd: registry, clock: systemClock });
    let security: string;
    let member: string;
    try {
      const tokens = new ApiTokens(app, systemClock);
      const make = async (team: string, role: 'member' | 'security') =>
        (
          await tokens.create({
            team,
            role,
            scopes: ['keys:read'],
            expiresInDays: 1,
            owner: 'bench@example.com',
            actor: 'bench',
          })
        ).token.reveal();
      security = await make('security', 'security');
      member = await make('payments', 'member');
    } finally {
      await app.close();
    }

    const startedAt = process.hrtime.bigint();
    const child = spawn(
      TSX,
      [
        '-e',
        `import(${JSON.stringify(MAIN_MODULE)}).then(async (m) => { process.exitCode = await m.main(process.argv.slice(0)); })`,
        'keyledger',
        'server',
        '--port',
        '0',
        '--json',
      ],
      // Its own process group: tsx runs the server in a node child, and the whole group is stopped at the end.
      { cwd: registry, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'], detached: true },
    );
    serverPid = child.pid;
    const url = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout!.on('data', (chunk) => {
        out += chunk;
        const line = out.split('\n')[0];
        if (out.includes('\n') && line) resolve(JSON.parse(line).url as string);
      });
      child.once('exit', (code) => reject(new Error(`the server exited with ${code}`)));
    });
    while ((await fetch(`${url}/readyz`).catch(() => undefined))?.status !== 200)
      await new Promise((r) => setTimeout(r, 100));
    const startSeconds = Number(process.hrtime.bigint() - startedAt) / 1e9;
    process.stderr.write(`server ready in ${startSeconds.toFixed(2)} s\n`);

    const middle = (await (
      await fetch(
        `${url}/api/v1/keys?limit=1&cursor=${Buffer.from(keyIdOf(Math.floor(KEYS / 2))).toString('base64url')}`,
        { headers: { authorization: `Bearer ${security}` } },
      )
    ).json()) as { next_cursor: string };
    const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
    // Signed in (and the dashboard's snapshot loaded) after the API's runs, so those run as they did before.
    let session: string | undefined;
    const dashboard = () => ({ cookie: `kl_session=${session}` });
    let next = 0;
    const runs: Array<{
      name: string;
      path?: string;
      headers: () => Record<string, string>;
      vary?: () => string;
      before?: () => Promise<void>;
    }> = [
      { name: 'list', path: '/api/v1/keys?limit=50', headers: () => bearer(security) },
      { name: 'list-team', path: '/api/v1/keys?team=payments&limit=50', headers: () => bearer(member) },
      { name: 'page', path: `/api/v1/keys?limit=50&cursor=${middle.next_cursor}`, headers: () => bearer(security) },
      {
        name: 'show',
        headers: () => bearer(security),
        vary: () => {
          // A prime stride visits keys far apart, each once before any comes back.
          next = (next + 7919) % KEYS;
          return `/api/v1/keys/${keyIdOf(next)}`;
        },
      },
      {
        name: 'dashboard',
        path: '/',
        headers: dashboard,
        before: async () => {
          session = await dashboardSession(url, adminEmail, adminPassword);
        },
      },
      { name: 'dashboard-team', path: '/?team=payments', headers: dashboard },
    ];
    const results: Record<string, unknown> = {};
    for (const run of runs) {
      await run.before?.();
      const cpuBefore = processTreeCpuMs(child.pid!);
      const result = await autocannon({
        url,
        connections: CONNECTIONS,
        duration: DURATION,
        headers: run.headers(),
        requests: [
          run.vary
            ? { method: 'GET', setupRequest: (request) => ({ ...request, path: run.vary!() }) }
            : { method: 'GET', path: run.path! },
        ],
      });
      const cpuMs = processTreeCpuMs(child.pid!);
      const requests = result.requests.total ?? 0;
      const summary = {
        requestsPerSecond: Math.round(result.requests.average),
        // The server's CPU time per request: less sensitive than req/s to what else the machine runs.
        ...(cpuMs !== undefined && cpuBefore !== undefined && requests > 0
          ? { serverCpuMsPerRequest: Number(((cpuMs - cpuBefore) / requests).toFixed(2)) }
          : {}),
        p50ms: result.latency.p50,
        p99ms: result.latency.p99,
        non2xx: result.non2xx,
        errors: result.errors,
      };
      results[run.name] = summary;
      process.stderr.write(
        `${run.name}: ${summary.requestsPerSecond} req/s, p50 ${summary.p50ms} ms, p99 ${summary.p99ms} ms, non-2xx ${summary.non2xx}, server CPU ${summary.serverCpuMsPerRequest ?? '?'} ms/request\n`,
      );
    }
    await stopProcessGroup(child.pid!);
    serverPid = undefined;
    process.stdout.write(
      `${JSON.stringify(
        {
          keys: KEYS,
          durationSeconds: DURATION,
          connections: CONNECTIONS,
          serverReadySeconds: Number(startSeconds.toFixed(2)),
          results,
          machine: {
            cpus: availableParallelism(),
            model: cpus()[0]?.model,
            loadavg: loadavg().map((v) => Number(v.toFixed(2))),
          },
        },
        null,
        2,
      )}\n`,
    );
  } finally {
    if (serverPid) await stopProcessGroup(serverPid);
    rmSync(root, { recursive: true, force: true, maxRetries: 5 });
  }
}

/**
 * Stops the server's process group and waits until none of it runs: stopping only tsx left its node child writing
 * the data folder (keys included) after the temporary registry was removed.
 */
async function stopProcessGroup(pid: number): Promise<void> {
  const signal = (name: NodeJS.Signals | 0) => {
    try {
      process.kill(-pid, name);
      return true;
    } catch {
      return false; // ESRCH: no process left in the group
    }
  };
  signal('SIGTERM');
  const deadline = Date.now() + 30_000;
  while (signal(0)) {
    if (Date.now() > deadline) signal('SIGKILL');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * CPU time (user + system, ms) of a process and its descendants from /proc (Linux; undefined elsewhere): the server
 * runs under tsx, whose node child does the work.
 */
function processTreeCpuMs(pid: number): number | undefined {
  try {
    const ticksPerMs = 100 / 1000; // USER_HZ: 100 on Linux
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    let total = (Number(fields[11]) + Number(fields[12])) / ticksPerMs;
    for (const task of readdirSync(`/proc/${pid}/task`))
      for (const childPid of readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8').split(' ').filter(Boolean))
        total += processTreeCpuMs(Number(childPid)) ?? 0;
    return total;
  } catch {
    return undefined;
  }
}

/**
 * Signs in as the local admin (GET /login for the form's CSRF cookie, POST /login) and waits until the inventory
 * answers: its first request loads the registry snapshot and runs the audit over it, which is not what is measured.
 */
async function dashboardSession(url: string, email: string, password: string): Promise<string> {
  const form = await fetch(`${url}/login`);
  const csrf = /kl_login_csrf=([^;]+)/.exec(form.headers.getSetCookie().join('\n'))?.[1];
  if (!csrf) throw new Error('the login page set no CSRF cookie');
  const login = await fetch(`${url}/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: `kl_login_csrf=${csrf}` },
    body: new URLSearchParams({ _csrf: csrf, email, password, returnTo: '/' }).toString(),
  });
  const session = /kl_session=([^;]+)/.exec(login.headers.getSetCookie().join('\n'))?.[1];
  if (login.status !== 303 || !session) throw new Error(`the dashboard login answered ${login.status}`);
  const loadStarted = process.hrtime.bigint();
  const first = await fetch(`${url}/`, { headers: { cookie: `kl_session=${session}` } });
  if (first.status !== 200) throw new Error(`the inventory answered ${first.status}`);
  process.stderr.write(
    `dashboard snapshot loaded in ${(Number(process.hrtime.bigint() - loadStarted) / 1e9).toFixed(2)} s\n`,
  );
  return session;
}

await main();
