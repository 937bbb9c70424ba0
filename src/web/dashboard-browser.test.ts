// The dashboard end to end in a real Chromium (playwright-core, Debian's /usr/bin/chromium), never skipped:
// the sandbox organisation `keyledger start` builds (org 'small'), served as `keyledger start` serves it (every
// module and the rotation controller, src/cli/commands/start-server.ts),
// and a real OIDC provider (oidc-provider) run here. A person signs in through the provider, finds an overdue
// key, rotates it (watched to `done`), triages a leak found by `scan --remediate` (assigns it, rotates the
// leaked key), sees a leaver; a member of
// another team is refused that key (an event). Then an active person who owns keys is deprovisioned through SCIM
// as Okta does it (POST /scim/v2/Users, then the OIN PATCH `{"active": false}`), and the browser watches their
// offboarding job on /leavers and their page reach `done`, each of their keys rotated. An admin then creates a team
// and adds a member on the Teams page, and that member, whose login carries no team claim, sees the team's keys
// (and loses them once removed). axe-core runs on every page (no serious or critical violation),
// each page is screenshotted into test-results/web/, and the inventory is checked at 375 px wide.
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AxeBuilder } from '@axe-core/playwright';
import Provider from 'oidc-provider';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type KeyledgerApp, openKeyledgerApp } from '../app/keyledger-app.js';
import { type OpenedOrganisation, openOrganisation } from '../cli/commands/start.js';
import { type StartedServer, startServerAndController } from '../cli/commands/start-server.js';
import { runCli } from '../cli/test-support/run-cli.js';
import { createIdpCredential } from '../directory/idp-credentials.js';
import { systemClock } from '../runtime/clock.js';
import { serverConfigSchema } from '../server/server-config.js';
import { silentLogger } from '../telemetry/logger.js';

const ARTIFACTS = join(process.cwd(), 'test-results', 'web');
const CLIENT_SECRET = 'dashboard-test-client-secret-0123456789';

let work: string;
let opened: OpenedOrganisation;
let app: KeyledgerApp;
let started: StartedServer | undefined;
let op: Server;
let browser: Browser;
let baseUrl: string;
/** Every page's HTML, scanned at the end for key material. */
const pagesSeen: string[] = [];
/** The OIDC accounts the provider knows: login name -> claims. */
const accounts = new Map<string, Record<string, unknown>>();

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function checkPage(page: Page, name: string): Promise<void> {
  const results = await new AxeBuilder({ page }).analyze();
  const serious = results.violations.filter((violation) => ['serious', 'critical'].includes(violation.impact ?? ''));
  expect(
    serious.map((violation) => `${violation.id}: ${violation.nodes.map((node) => node.target.join(' ')).join(', ')}`),
    name,
  ).toEqual([]);
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
  pagesSeen.push(await page.content());
}

async function signIn(page: Page, login: string): Promise<void> {
  await page.goto(`${baseUrl}/`);
  expect(page.url()).toContain('/login');
  await checkPage(page, '01-login');
  await page.click('#sso');
  await page.fill('input[name=login]', login);
  await page.fill('input[name=password]', 'any');
  await page.click('button[type=submit]');
  // The provider asks for consent once per client.
  await page.waitForURL((url) => url.href.startsWith(baseUrl) || url.pathname.includes('/interaction/'));
  if (!page.url().startsWith(baseUrl)) {
    await page.click('button[type=submit]');
    await page.waitForURL((url) => url.href.startsWith(baseUrl));
  }
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'keyledger-web-'));
  await mkdir(ARTIFACTS, { recursive: true });
  opened = await openOrganisation({
    org: 'small',
    seed: 1,
    dir: join(work, 'sandbox'),
    rateLimits: 'off',
    env: {},
    cwd: work,
    clock: systemClock,
    consumer: { refreshMs: 60_000, callMs: 1_000 },
  });
  // A leak for the findings page, found the way a person finds one: `scan --remediate` records it.
  const scan = await runCli(
    ['scan', 'dir', opened.examples.leakedFile, '--registry', opened.working.registryDir, '--remediate'],
    { cwd: work, env: opened.exports, clock: systemClock },
  );
  expect(scan.stderr).toContain('finding(s) recorded');
  app = await openKeyledgerApp({
    registryDir: opened.working.registryDir,
    env: opened.exports,
    cwd: work,
    clock: systemClock,
  });

  const webPort = await freePort();
  const opPort = await freePort();
  baseUrl = `http://127.0.0.1:${webPort}`;
  const issuer = `http://127.0.0.1:${opPort}`;
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: 'keyledger',
        client_secret: CLIENT_SECRET,
        redirect_uris: [`${baseUrl}/auth/callback`],
        grant_types: ['authorization_code'],
        response_types: ['code'],
      },
    ],
    claims: { openid: ['sub'], email: ['email'], keyledger: ['roles', 'teams'] },
    scopes: ['openid', 'email', 'keyledger'],
    cookies: { keys: ['dashboard-test-cookie-key'] },
    findAccount: async (_ctx, sub) => ({
      accountId: sub,
      claims: async () => ({ sub, ...(accounts.get(sub) ?? { email: `${sub}@example.test` }) }),
    }),
  });
  op = provider.listen(opPort);

  // The server `keyledger start` runs (src/cli/commands/start-server.ts): every module of src/app/server-modules.ts
  // and the rotation controller beside it, with the OIDC provider configured as a deployment configures it, through
  // KEYLEDGER_OIDC_* (src/web/web-config.ts).
  Object.assign(process.env, {
    KEYLEDGER_OIDC_ISSUER: issuer,
    KEYLEDGER_OIDC_CLIENT_ID: 'keyledger',
    KEYLEDGER_OIDC_CLIENT_SECRET: CLIENT_SECRET,
    KEYLEDGER_OIDC_ROLES_CLAIM: 'roles',
    KEYLEDGER_OIDC_TEAMS_CLAIM: 'teams',
    KEYLEDGER_OIDC_EMAIL_CLAIM: 'email',
    KEYLEDGER_OIDC_ROLE_MAP: 'keyledger-admins=admin',
    KEYLEDGER_OIDC_SCOPE: 'openid email keyledger',
    KEYLEDGER_OIDC_ALLOW_INSECURE: '1',
  });
  started = await startServerAndController(opened, {
    config: serverConfigSchema.parse({ port: webPort, host: '127.0.0.1' }),
    env: {},
    cwd: work,
    clock: systemClock,
    logger: silentLogger,
    schedule: '0 2 * * *',
  });
  expect(started.running.url).toBe(baseUrl);

  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}, 240_000);

afterAll(async () => {
  await browser?.close();
  await started?.stop();
  await new Promise<void>((resolve) => (op ? op.close(() => resolve()) : resolve()));
  await app?.close();
  await opened?.working.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

describe('the dashboard in a browser', () => {
  it('signs in through OIDC, rotates an overdue key, triages a finding and shows a leaver', async () => {
    const dueKey = opened.examples.dueKey!;
    expect(dueKey).toBeDefined();
    const dueEntry = (await app.writer.read(dueKey))!.entry;
    accounts.set('platform-admin', {
      email: opened.examples.activePerson,
      roles: ['keyledger-admins'],
      teams: [dueEntry.owner_team],
    });
    const context = await browser.newContext();
    const page = await context.newPage();
    await signIn(page, 'platform-admin');
    expect(new URL(page.url()).pathname).toBe('/');
    expect(await page.locator('.cards').textContent()).toContain('active keys');
    await checkPage(page, '02-inventory');

    // Keyboard: the first Tab reaches the skip link, which leads to the content; `/` focuses the filter; the
    // overdue filter finds the due key.
    await page.keyboard.press('Tab');
    expect(await page.evaluate('document.activeElement && document.activeElement.textContent')).toBe('Skip to content');
    await page.keyboard.press('Enter');
    expect(await page.evaluate('document.activeElement && document.activeElement.id')).toBe('main');
    await page.keyboard.press('/');
    expect(await page.evaluate('document.activeElement && document.activeElement.getAttribute("name")')).toBe('q');
    await page.selectOption('select[name=flag]', 'rotation-overdue');
    await page.keyboard.type(dueKey);
    await page.keyboard.press('Enter');
    await page.waitForURL(/flag=rotation-overdue/);
    expect(await page.locator('tbody tr').count()).toBe(1);
    await checkPage(page, '03-inventory-overdue');
    await page.click(`a[href="/keys/${dueKey}"]`);
    await checkPage(page, '04-key');

    // Rotate it, and watch the rotation reach `done` on the key's page.
    await page.click('button:has-text("Rotate now")');
    expect(await page.locator('.notice').textContent()).toContain('started');
    let state = '';
    for (let attempt = 0; attempt < 90 && state !== 'done'; attempt += 1) {
      await page.waitForTimeout(1_000);
      await page.reload();
      state = (await page.locator('.rotation-state').first().textContent()) ?? '';
    }
    expect(state).toBe('done');
    await checkPage(page, '05-key-rotated');

    await page.click('nav >> text=Rotations');
    await checkPage(page, '06-rotations');

    // Triage the leak: assign it, then rotate the leaked key (`scan --remediate` planned that rotation).
    await page.click('nav >> text=Findings');
    const finding = page.locator('tbody tr').first();
    const leakedKey = (await finding.locator('td[data-label=Key]').textContent())!.trim();
    await finding.locator('input[name=assignee]').fill('security-oncall@example.test');
    await finding.locator('button:has-text("Assign")').click();
    expect(await page.locator('.notice').textContent()).toContain('assigned to security-oncall@example.test');
    expect(await page.locator('tbody tr').first().locator('.triage').textContent()).toContain('assigned');
    await page.locator('tbody tr').first().locator('button:has-text("Rotate key")').click();
    // The controller beside the server (as `keyledger start` runs it) resumes the planned rotation at its start; the
    // dashboard joins it while it runs, or starts the next one once it is done.
    expect(await page.locator('.notice').textContent()).toMatch(
      new RegExp(`(already under way|Rotation [0-9a-f-]+ started) for ${leakedKey}`),
    );
    expect(await page.locator('tbody tr').first().locator('.triage').textContent()).toContain('rotating');
    await checkPage(page, '07-findings');
    let leakRotation = '';
    for (let attempt = 0; attempt < 90 && leakRotation !== 'done'; attempt += 1) {
      leakRotation = (await app.rotation().journal.list({ keyId: leakedKey, limit: 1 }))[0]?.state ?? '';
      if (leakRotation !== 'done') await page.waitForTimeout(1_000);
    }
    expect(leakRotation).toBe('done');

    await page.click('nav >> text=Leavers');
    await page.locator('tr.leaver').first().waitFor();
    expect(await page.locator('main').textContent()).toContain(opened.examples.leaver!);
    await checkPage(page, '08-leavers');

    await page.click('nav >> text=Key requests');
    await checkPage(page, '09-requests');
    await page.click('nav >> text=Audit');
    await page.locator('svg[role=img]').first().waitFor();
    await checkPage(page, '10-audit');

    // Readable at 375 px: nothing wider than the window.
    await page.setViewportSize({ width: 375, height: 800 });
    await page.goto(`${baseUrl}/`);
    const overflow = await page.evaluate('document.documentElement.scrollWidth');
    expect(overflow).toBeLessThanOrEqual(375);
    await checkPage(page, '11-inventory-375px');
    await context.close();

    // No page showed key material: not one secret of the organisation's keys, not the OIDC client secret.
    const html = pagesSeen.join('\n');
    expect(pagesSeen.length).toBeGreaterThanOrEqual(11);
    for (const key of [...opened.working.rotatable, ...opened.working.manual]) expect(html).not.toContain(key.secret);
    expect(html).not.toContain(CLIENT_SECRET);

    const events = await app.events.list({ type: 'login', order: 'desc', limit: 5 });
    expect(events[0]?.data).toMatchObject({ method: 'oidc', outcome: 'success', roles: ['admin'] });
    const rotation = await app.events.list({ keyId: dueKey, type: 'rotated' });
    expect(rotation.length).toBeGreaterThan(0);
  }, 240_000);

  it('refuses a member of another team the key, and records the denial', async () => {
    const dueKey = opened.examples.dueKey!;
    const dueEntry = (await app.writer.read(dueKey))!.entry;
    accounts.set('other-member', { email: 'someone@example.test', roles: ['member'], teams: ['no-such-team'] });
    const context = await browser.newContext();
    const page = await context.newPage();
    await signIn(page, 'other-member');
    expect(await page.locator('#count').textContent()).toContain('0 of 0 keys');
    const response = await page.goto(`${baseUrl}/keys/${dueKey}`);
    expect(response?.status()).toBe(403);
    await checkPage(page, '12-denied');
    const denied = await app.events.list({ type: 'access_denied', keyId: dueKey });
    expect(denied.at(-1)).toMatchObject({ actor: 'someone@example.test', data: { action: 'read-key' } });
    expect(dueEntry.owner_team).not.toBe('no-such-team');
    await context.close();
  }, 120_000);

  it("watches a leaver's offboarding: deprovisioned over SCIM, their job reaches done with their keys rotated", async () => {
    const org = opened.working.sandbox.org!;
    const rotatable = new Set(opened.working.rotatable.map((key) => key.keyId));
    const keysOf = (email: string) =>
      org.keys.filter((key) => key.registered && key.registryOwnerIndividual === email).map((key) => key.keyId);
    // Not the signed-in admin's own person, and one whose keys all rotate at a provider (none ticketed), fewest first.
    const person = org.people
      .filter((candidate) => candidate.status === 'active' && candidate.email !== opened.examples.activePerson)
      .map((candidate) => ({ candidate, keys: keysOf(candidate.email) }))
      .filter(({ keys }) => keys.length > 0 && keys.every((keyId) => rotatable.has(keyId)))
      .sort((a, b) => a.keys.length - b.keys.length)[0];
    expect(person).toBeDefined();
    const { candidate, keys } = person!;

    // A SCIM token as `keyledger idp token create scim` makes it (src/directory/idp-credentials.ts).
    const { secret } = await createIdpCredential(app.operational.db, 'scim', { clock: systemClock, actor: 'test:web' });
    const scim = async (method: string, path: string, body: unknown) => {
      const response = await fetch(`${baseUrl}/scim/v2${path}`, {
        method,
        headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/scim+json' },
        body: JSON.stringify(body),
      });
      // biome-ignore lint/suspicious/noExplicitAny: tests read response bodies freely
      return { status: response.status, body: (await response.json()) as any };
    };
    // Signed in first, so the browser can open the leaver's page while the job is still running.
    const context = await browser.newContext();
    const page = await context.newPage();
    await signIn(page, 'platform-admin');

    const provisioned = await scim('POST', '/Users', {
      schemas: [
        'urn:ietf:params:scim:schemas:core:2.0:User',
        'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User',
      ],
      userName: candidate.email,
      externalId: `okta-${candidate.login}`,
      name: {
        givenName: candidate.name.split(' ')[0],
        familyName: candidate.name.split(' ').slice(1).join(' ') || 'X',
      },
      emails: [{ primary: true, value: candidate.email, type: 'work' }],
      displayName: candidate.name,
      active: true,
      'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User': { department: candidate.team },
    });
    expect(provisioned.status).toBe(201);
    const deprovisioned = await scim('PATCH', `/Users/${provisioned.body.id}`, {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
      Operations: [{ op: 'replace', value: { active: false } }],
    });
    expect(deprovisioned.status).toBe(200);
    expect(deprovisioned.body.active).toBe(false);

    // The job opens off the request path: the leaver's page answers 404 until it exists.
    const leaverUrl = `${baseUrl}/leavers/${encodeURIComponent(candidate.email)}`;
    let status = 0;
    for (let attempt = 0; attempt < 40 && status !== 200; attempt += 1) {
      status = (await page.goto(leaverUrl))?.status() ?? 0;
      if (status !== 200) await page.waitForTimeout(250);
    }
    expect(status).toBe(200);
    const firstSeen = (await page.locator('#leaver-progress .job-state').textContent())?.trim();
    expect(['running', 'done']).toContain(firstSeen);
    if (firstSeen === 'running') {
      // Seen running: only the page's own refresh (no reload here) can bring `done` below.
      expect(await page.locator('#leaver-progress[data-refresh]').count()).toBe(1);
      await checkPage(page, '13-leaver-running');
    }
    // The leaver's page refreshes its progress while the job runs (the dashboard script); wait for `done` there.
    await page.locator('#leaver-progress .job-state', { hasText: /^\s*done\s*$/ }).waitFor({ timeout: 100_000 });
    const rotated = Number(await page.locator('[data-count=rotated] strong').textContent());
    expect(rotated).toBeGreaterThanOrEqual(keys.length);
    expect(Number(await page.locator('[data-count=failed] strong').textContent())).toBe(0);
    for (const keyId of keys) {
      expect(await page.locator('table.found').textContent()).toContain(keyId);
      expect(await page.locator(`table.steps-done tr[data-step="rotate:${keyId}"]`).count()).toBe(1);
    }
    await checkPage(page, '14-leaver-done');

    // On /leavers the job is done, with the counts of its report.
    await page.click('nav >> text=Leavers');
    const row = page.locator(`tr.leaver[data-email="${candidate.email}"]`);
    await row.waitFor();
    expect((await row.locator('.job-state').textContent())?.trim()).toBe('done');
    expect(Number(await row.locator('td[data-label=Rotated]').textContent())).toBe(rotated);
    await checkPage(page, '15-leavers-done');
    await context.close();

    // Each key was rotated in the registry's journal, and no page showed key material.
    for (const keyId of keys) expect((await app.rotation().journal.list({ keyId, limit: 1 }))[0]?.state).toBe('done');
    const html = pagesSeen.join('\n');
    for (const key of [...opened.working.rotatable, ...opened.working.manual]) expect(html).not.toContain(key.secret);
    expect(html).not.toContain(secret);
  }, 150_000);
  it("lets an admin create a team and add a member, who then, with no team claim, sees the team's keys", async () => {
    const dueKey = opened.examples.dueKey!;
    const team = (await app.writer.read(dueKey))!.entry.owner_team!;
    const newcomer = 'newcomer@example.test';
    const admin = await browser.newContext();
    const page = await admin.newPage();
    await signIn(page, 'platform-admin');
    await page.click('nav >> text=Teams');
    const row = page.locator(`tr.team[data-team="${team}"]`);
    expect(await row.locator('td[data-label=Record]').textContent()).toContain('not yet a record');
    const teamKeys = Number((await row.locator('td[data-label=Keys]').textContent())!.replace(/,/g, ''));
    expect(teamKeys).toBeGreaterThan(0);
    await checkPage(page, '16-teams');

    // Create the team from the keyboard: type into the form's fields, Enter submits it.
    const create = page.locator('form[aria-labelledby=create-team]');
    await create.locator('input[name=team]').focus();
    await page.keyboard.type(team);
    await page.keyboard.press('Tab');
    await page.keyboard.type('Team with the overdue key');
    await create.locator('input[name=contact]').fill('oncall@example.test');
    await page.keyboard.press('Enter');
    await page.waitForURL(new RegExp(`/teams/${team}\\?`));
    expect(await page.locator('.notice').textContent()).toContain(`Team ${team} created`);
    expect(await page.locator('#team-contact').textContent()).toBe('oncall@example.test');

    // Add the newcomer as a member.
    const add = page.locator('form[aria-labelledby=add-member]');
    await add.locator('input[name=email]').fill(newcomer);
    await add.locator('select[name=role]').selectOption('member');
    await add.locator('button[type=submit]').press('Enter');
    await page.locator('.notice', { hasText: 'added' }).waitFor();
    expect(await page.locator(`tr.member[data-email="${newcomer}"] td[data-label=Role]`).textContent()).toBe('member');
    await checkPage(page, '17-team');
    const created = await app.events.list({ type: 'team.member_added', order: 'desc', limit: 1 });
    expect(created[0]).toMatchObject({ actor: opened.examples.activePerson, data: { team, email: newcomer } });

    // The newcomer's login carries no team claim (nor a role): the team record gives them the team.
    accounts.set('newcomer', { email: newcomer });
    const member = await browser.newContext();
    const memberPage = await member.newPage();
    await signIn(memberPage, 'newcomer');
    const [login] = await app.events.list({ type: 'login', order: 'desc', limit: 1 });
    expect(login).toMatchObject({ actor: newcomer, data: { outcome: 'success', teams: [], roles: ['member'] } });
    expect(await memberPage.locator('#count').textContent()).toContain(`${teamKeys} of ${teamKeys} keys`);
    expect((await memberPage.goto(`${baseUrl}/keys/${dueKey}`))?.status()).toBe(200);
    await memberPage.click('nav >> text=Teams');
    expect(await memberPage.locator('tr.team').count()).toBe(1);
    expect(await memberPage.locator('form[aria-labelledby=create-team]').count()).toBe(0);
    await memberPage.click(`a[href="/teams/${team}"]`);
    expect(await memberPage.locator('form').filter({ hasText: 'Add member' }).count()).toBe(0);
    await checkPage(memberPage, '18-team-as-member');
    // A member's form post is refused (403) and recorded.
    const refused = await memberPage.evaluate(
      async ([path, csrf]) =>
        (
          await fetch(path!, {
            method: 'POST',
            headers: { 'content-type': 'application/x-www-form-urlencoded' },
            body: `_csrf=${encodeURIComponent(csrf!)}&email=someone%40example.test`,
          })
        ).status,
      [`/teams/${team}/members`, (await memberPage.locator('form.whoami input[name=_csrf]').getAttribute('value'))!],
    );
    expect(refused).toBe(403);
    expect((await app.events.list({ type: 'access_denied', order: 'desc', limit: 1 }))[0]).toMatchObject({
      actor: newcomer,
      data: { action: 'add-team-member' },
    });

    // Removed from the team by the admin, the newcomer loses the keys at their next request.
    await page.locator(`tr.member[data-email="${newcomer}"] button`).click();
    await page.locator('.notice', { hasText: 'removed' }).waitFor();
    expect((await memberPage.goto(`${baseUrl}/keys/${dueKey}`))?.status()).toBe(403);
    await member.close();
    await admin.close();
  }, 150_000);
});
