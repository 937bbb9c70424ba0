// A local Slack Web API for what a token can do about itself: `auth.test` (who am I) and `auth.revoke` (revoke
// myself; `test=true` only checks), with Slack's answers — HTTP 200 and `{ok: false, error: "invalid_auth"}` for a
// refused token, `token_revoked` after a revoke, `429` with `Retry-After` and `{ok: false, error: "ratelimited"}` —
// and incoming webhooks (`POST /services/T/B/X`: `ok`, or `403 invalid_token` / `404 no_service` as plain text).
// Tokens and webhooks are created in an app's configuration pages, not by API: the control API plants them.
// Slack's Audit Logs API (Enterprise Grid) records no token use; the audit log is empty.
import type { SandboxSeed } from '../../sandbox-seed.js';
import type { SandboxAnswer, SandboxProvider, SandboxRequest, SandboxRouteMatch } from '../../sandbox-server.js';
import {
  generateSlackBotToken,
  generateSlackId,
  generateSlackUserToken,
  generateSlackWebhookPath,
  SLACK_WEBHOOK_PATTERN,
} from './slack-key-format.js';

interface SlackToken {
  token: string;
  kind: 'bot' | 'user';
  teamId: string;
  teamName: string;
  userId: string;
  botId?: string;
  revoked: boolean;
}

interface SlackWebhook {
  path: string;
  teamId: string;
  integrationId: string;
  revoked: boolean;
  posts: number;
}

export class SlackSandbox implements SandboxProvider {
  readonly name = 'slack';
  readonly #tokens = new Map<string, SlackToken>();
  readonly #webhooks = new Map<string, SlackWebhook>();

  load(seed: SandboxSeed): void {
    for (const seeded of seed.keys) {
      if (seeded.provider !== this.name || seeded.status !== 'active') continue;
      const webhook = SLACK_WEBHOOK_PATTERN.exec(seeded.secret);
      if (webhook) {
        const path = new URL(seeded.secret).pathname;
        this.#webhooks.set(path, { path, teamId: webhook[1]!, integrationId: webhook[2]!, revoked: false, posts: 0 });
        continue;
      }
      this.#tokens.set(seeded.secret, {
        token: seeded.secret,
        kind: seeded.secret.startsWith('xoxp-') ? 'user' : 'bot',
        teamId: seeded.account,
        teamName: seeded.account,
        userId: generateSlackId('U', Math.random),
        ...(seeded.secret.startsWith('xoxb-') ? { botId: seeded.providerKeyId } : {}),
        revoked: false,
      });
    }
  }

  /** A token as installing an app creates it. */
  plantToken(input: { kind?: 'bot' | 'user'; teamId?: string } = {}): SlackToken {
    const kind = input.kind ?? 'bot';
    const token: SlackToken = {
      token: kind === 'bot' ? generateSlackBotToken(Math.random) : generateSlackUserToken(Math.random),
      kind,
      teamId: input.teamId ?? 'T0ACME00001',
      teamName: 'Acme',
      userId: generateSlackId('U', Math.random),
      ...(kind === 'bot' ? { botId: generateSlackId('B', Math.random) } : {}),
      revoked: false,
    };
    this.#tokens.set(token.token, token);
    return token;
  }

  /** An incoming webhook as the app's configuration page creates it; its URL on this server. */
  plantWebhook(teamId = 'T0ACME00001'): SlackWebhook {
    const integrationId = generateSlackId('B', Math.random);
    const path = generateSlackWebhookPath(teamId, integrationId, Math.random);
    const webhook = { path, teamId, integrationId, revoked: false, posts: 0 };
    this.#webhooks.set(path, webhook);
    return webhook;
  }

  match(request: SandboxRequest): SandboxRouteMatch | undefined {
    const method = /^\/api\/(auth\.test|auth\.revoke)$/.exec(request.path)?.[1];
    if (method && (request.method === 'POST' || request.method === 'GET')) {
      return {
        operation: `slack:${method}`,
        handle: () => (method === 'auth.test' ? this.#authTest(request) : this.#authRevoke(request)),
      };
    }
    if (request.method === 'POST' && request.path.startsWith('/services/')) {
      return { operation: 'slack:POST /services/T/B/X', handle: () => this.#postWebhook(request) };
    }
    return undefined;
  }

  notFound(): SandboxAnswer {
    return { status: 404, body: { ok: false, error: 'unknown_method' } };
  }

  rateLimited(retryAfter: string, status?: number): SandboxAnswer {
    return { status: status ?? 429, headers: { 'retry-after': retryAfter }, body: { ok: false, error: 'ratelimited' } };
  }

  failure(status: number, echo?: string): SandboxAnswer {
    return { status, body: { ok: false, error: 'fatal_error', ...(echo ? { warning: `token ${echo}` } : {}) } };
  }

  callerSecret(request: SandboxRequest): string | undefined {
    return tokenOf(request);
  }

  /** Slack limits per method per workspace. */
  rateLimitKey(request: SandboxRequest): string {
    const token = tokenOf(request);
    return (token && this.#tokens.get(token)?.teamId) ?? request.remoteAddress;
  }

  control(request: SandboxRequest, subpath: string): SandboxAnswer | undefined {
    if (request.method !== 'POST') return undefined;
    const body = JSON.parse(request.text || '{}') as { kind?: 'bot' | 'user'; teamId?: string };
    if (subpath === 'tokens') {
      const token = this.plantToken(body);
      return {
        status: 201,
        body: {
          token: token.token,
          teamId: token.teamId,
          userId: token.userId,
          ...(token.botId ? { botId: token.botId } : {}),
        },
      };
    }
    if (subpath === 'webhooks') {
      const webhook = this.plantWebhook(body.teamId);
      return {
        status: 201,
        body: { path: webhook.path, teamId: webhook.teamId, integrationId: webhook.integrationId },
      };
    }
    return undefined;
  }

  auditLog(): unknown[] {
    return [];
  }

  groundTruth(): unknown {
    return {
      tokens: [...this.#tokens.values()].map((t) => ({
        kind: t.kind,
        teamId: t.teamId,
        botId: t.botId ?? null,
        revoked: t.revoked,
      })),
      webhooks: [...this.#webhooks.values()].map((w) => ({
        teamId: w.teamId,
        integrationId: w.integrationId,
        posts: w.posts,
      })),
    };
  }

  /** Slack answers a refused token with HTTP 200: the `ok` field says. */
  #authenticate(request: SandboxRequest): SlackToken | SandboxAnswer {
    const value = tokenOf(request);
    if (!value) return { status: 200, body: { ok: false, error: 'not_authed' } };
    const token = this.#tokens.get(value);
    if (!token) return { status: 200, body: { ok: false, error: 'invalid_auth' } };
    if (token.revoked) return { status: 200, body: { ok: false, error: 'token_revoked' } };
    return token;
  }

  #authTest(request: SandboxRequest): SandboxAnswer {
    const token = this.#authenticate(request);
    if (isAnswer(token)) return token;
    return {
      status: 200,
      headers: { 'x-oauth-scopes': token.kind === 'bot' ? 'chat:write,channels:read' : 'users:read' },
      body: {
        ok: true,
        url: `https://${token.teamName.toLowerCase()}.slack.com/`,
        team: token.teamName,
        user: token.kind === 'bot' ? 'keyledger-bot' : 'someone',
        team_id: token.teamId,
        user_id: token.userId,
        ...(token.botId ? { bot_id: token.botId } : {}),
        is_enterprise_install: false,
      },
    };
  }

  #authRevoke(request: SandboxRequest): SandboxAnswer {
    const token = this.#authenticate(request);
    if (isAnswer(token)) return token;
    const test = (request.query.get('test') ?? new URLSearchParams(request.text).get('test')) === 'true';
    if (!test) token.revoked = true;
    return { status: 200, body: { ok: true, revoked: !test } };
  }

  #postWebhook(request: SandboxRequest): SandboxAnswer {
    const webhook = this.#webhooks.get(request.path);
    if (!webhook) return { status: 404, headers: { 'content-type': 'text/html' }, body: 'no_service' };
    if (webhook.revoked) return { status: 403, headers: { 'content-type': 'text/html' }, body: 'invalid_token' };
    let payload: { text?: unknown; blocks?: unknown };
    try {
      payload = JSON.parse(request.text || '{}') as typeof payload;
    } catch {
      return { status: 400, headers: { 'content-type': 'text/html' }, body: 'invalid_payload' };
    }
    if (payload.text === undefined && payload.blocks === undefined) {
      return { status: 400, headers: { 'content-type': 'text/html' }, body: 'no_text' };
    }
    webhook.posts++;
    return { status: 200, headers: { 'content-type': 'text/html' }, body: 'ok' };
  }
}

function isAnswer(value: SlackToken | SandboxAnswer): value is SandboxAnswer {
  return typeof (value as SandboxAnswer).status === 'number';
}

/** Bearer, or the legacy `token` form field. */
function tokenOf(request: SandboxRequest): string | undefined {
  const bearer = /^Bearer\s+(\S+)$/i.exec(request.headers.authorization?.trim() ?? '');
  if (bearer) return bearer[1];
  return new URLSearchParams(request.text).get('token') ?? request.query.get('token') ?? undefined;
}
