// Every built-in rule's verify block, run end to end against a local server that answers as that provider's
// identify-self call does: it accepts the rule's own canary (its fixture's true positive) sent exactly as the block
// declares — method, path and query, headers, body — and refuses a revoked key of the same shape with the block's
// invalid answer. So each of the 100+ blocks is a well-formed request whose outcomes can be told apart, and a scan
// through them ends in `verified` / `invalid` / `unknown` in every report format.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderCsvReport } from '../reporters/csv-report.js';
import { renderJsonReport } from '../reporters/gitleaks-json-report.js';
import { renderSarifReport } from '../reporters/sarif-report.js';
import { BUILTIN_RULE_FIXTURES, BUILTIN_RULES } from '../rules/builtin-rules.js';
import type { VerifyCondition, VerifyDefinition } from '../rules/rule-definition.js';
import { runScan } from '../scan-pipeline.js';
import { DeclarativeVerifier } from './declarative-verifier.js';
import { declaredOrigin, renderVerifyRequest } from './verify-request.js';

const BLOCKS = BUILTIN_RULES.filter((rule) => rule.verify && !rule.provider).map((rule) => {
  const fixture = BUILTIN_RULE_FIXTURES.find((candidate) => candidate.ruleId === rule.id);
  const live = fixture?.positives[0]?.secret as string;
  // A revoked key: same shape, one character changed.
  const revoked = live.slice(0, -1) + (live.at(-1) === 'a' ? 'b' : 'a');
  return { id: rule.id, block: rule.verify as VerifyDefinition, live, revoked };
});

/** A body that meets the condition's JSON test, if it has one. */
function bodyFor(condition: VerifyCondition): string {
  if (!condition.json) return '{}';
  const body: Record<string, unknown> = {};
  let at = body;
  const keys = condition.json.field.split('.');
  for (const key of keys.slice(0, -1)) {
    at[key] = {};
    at = at[key] as Record<string, unknown>;
  }
  at[keys.at(-1) as string] = condition.json.equals;
  return JSON.stringify(body);
}

let server: Server;
let origin = '';
/** What the current provider (the block under test) expects for its live key, by declared origin. */
let expected: { method: string; path: string; headers: Record<string, string>; body?: string } | undefined;
let answers: { verified: VerifyCondition; invalid: VerifyCondition } | undefined;
let requests = 0;

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => {
      body += chunk;
    });
    req.on('end', () => {
      requests++;
      const want = expected;
      const accepted =
        want !== undefined &&
        req.method === want.method &&
        req.url === want.path &&
        Object.entries(want.headers).every(([name, value]) => req.headers[name.toLowerCase()] === value) &&
        (want.body === undefined || body === want.body);
      const condition = accepted ? answers?.verified : answers?.invalid;
      res.writeHead(condition?.status[0] ?? 500, { 'content-type': 'application/json' });
      res.end(condition ? bodyFor(condition) : '{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

describe('built-in verify blocks', () => {
  it('cover 100 rules or more, each sending its secret to a fixed public https host', () => {
    expect(BLOCKS.length).toBeGreaterThanOrEqual(100);
    for (const { id, block } of BLOCKS) {
      const url = new URL(declaredOrigin(block));
      expect(url.protocol, id).toBe('https:');
      expect(url.hostname, id).toMatch(/^[a-z0-9.-]+\.[a-z]{2,}$/);
      expect(url.hostname, id).not.toMatch(/localhost|example|\.test$|\.invalid$/);
    }
  });

  it.each(BLOCKS)('$id: the live canary is verified, a revoked one invalid', async ({ block, live, revoked }) => {
    const request = renderVerifyRequest(block, live);
    expected = {
      method: block.method,
      path: request.url.pathname + request.url.search,
      headers: request.headers,
      ...(request.body !== undefined ? { body: request.body } : {}),
    };
    answers = { verified: block.verified, invalid: block.invalid };
    const verifier = new DeclarativeVerifier({ hostIntervalMs: 0, resolveOrigin: () => origin });
    const before = requests;
    expect((await verifier.verify(block, live)).status).toBe('verified');
    expect((await verifier.verify(block, revoked)).status).toBe('invalid');
    expect(requests - before).toBe(2);
  });

  it('a scan with --verify reports verified / invalid in the JSON, CSV and SARIF reports, never the secret', async () => {
    const neon = BLOCKS.find((entry) => entry.id === 'neon-api-key');
    const xata = BLOCKS.find((entry) => entry.id === 'xata-api-key');
    if (!neon || !xata) throw new Error('neon-api-key and xata-api-key carry verify blocks');
    const dir = mkdtempSync(join(tmpdir(), 'kl-verify-scan-'));
    try {
      writeFileSync(join(dir, 'app.env'), `NEON_API_KEY=${neon.live}\nXATA_API_KEY=${xata.revoked}\n`);
      // Both blocks are bearer GETs; the local provider accepts only Neon's live canary.
      const request = renderVerifyRequest(neon.block, neon.live);
      expected = { method: 'GET', path: request.url.pathname, headers: request.headers };
      answers = { verified: neon.block.verified, invalid: neon.block.invalid };
      const verifier = new DeclarativeVerifier({ hostIntervalMs: 0, resolveOrigin: () => origin });
      const report = await runScan({
        source: { kind: 'dir', path: dir, respectGitignore: false },
        cwd: dir,
        env: {},
        threads: 1,
        verify: async () => undefined,
        verifyDeclared: (definition, secret) => verifier.verify(definition, secret.reveal()),
      });
      const byRule = new Map(report.findings.map((finding) => [finding.ruleId, finding.liveness]));
      expect(byRule.get('neon-api-key')).toMatchObject({ live: true, status: 'verified' });
      expect(byRule.get('xata-api-key')).toMatchObject({ live: false, status: 'invalid' });
      const json = renderJsonReport(report.findings, 100);
      const csv = renderCsvReport(report.findings, 100);
      const sarif = renderSarifReport(report.findings, report.ruleSet, '0.0.0-test');
      expect(json).toContain('"Verification": "verified"');
      expect(csv).toContain(',verified');
      expect(sarif).toContain('"verification": "invalid"');
      for (const text of [json, csv, sarif]) {
        expect(text).not.toContain(neon.live);
        expect(text).not.toContain(xata.revoked);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
