// A local OpenAI API for what keyledger manages: the admin API's projects, project service accounts
// (`POST .../service_accounts` answers with the account's first API key), more keys for a service account, project
// API keys (list, get, delete; `redacted_value`, `last_used_at` in Unix seconds, `owner`), organisation audit logs
// (`api_key.created`, `api_key.deleted`, `service_account.created` with the actor's `api_key.id`), and
// `GET /v1/models` — the call that proves a key works and moves its `last_used_at`. Errors are OpenAI's
// `{error: {message, type, param, code}}`; 429s carry `retry-after` and the `x-ratelimit-*-requests` headers.
import type { Clock } from '../../../runtime/clock.js';
import { systemClock } from '../../../runtime/clock.js';
import { bearerToken } from '../../sandbox-credentials.js';
import { SandboxPathRouter } from '../../sandbox-path-router.js';
import type { SandboxSeed } from '../../sandbox-seed.js';
import type { SandboxAnswer, SandboxProvider, SandboxRequest, SandboxRouteMatch } from '../../sandbox-server.js';
import { generateOpenaiId, generateOpenaiKey, redactedOpenaiKey } from './openai-key-format.js';

const ORG = '/v1/organization';
const RATE_LIMIT_REQUESTS = 500;

export interface OpenaiSandboxOptions {
  clock?: Clock;
  /** Projects to start with (ids). */
  projects?: string[];
}

interface OpenaiProject {
  id: string;
  name: string;
  createdAt: number;
}

interface OpenaiServiceAccount {
  id: string;
  projectId: string;
  name: string;
  createdAt: number;
}

interface OpenaiKey {
  id: string;
  projectId: string;
  name: string;
  value: string;
  createdAt: number;
  lastUsedAt: number | null;
  owner:
    | { type: 'user'; user: { id: string; email: string; name: string } }
    | { type: 'service_account'; serviceAccountId: string };
}

/** An organisation audit-log entry as `GET /v1/organization/audit_logs` returns it. */
export interface OpenaiAuditLog {
  id: string;
  type: string;
  effective_at: number;
  project?: { id: string; name: string };
  actor: {
    type: 'api_key';
    api_key: { id: string; type: 'user' | 'service_account'; user?: { id: string; email: string } };
  };
  [event: string]: unknown;
}

export class OpenaiSandbox implements SandboxProvider {
  readonly name = 'openai';
  /** The adapter's credential: an organisation admin key. */
  readonly adminKey: string;
  readonly adminKeyId: string;
  readonly #clock: Clock;
  readonly #router = new SandboxPathRouter();
  readonly #projects = new Map<string, OpenaiProject>();
  readonly #serviceAccounts = new Map<string, OpenaiServiceAccount>();
  readonly #keys = new Map<string, OpenaiKey>();
  readonly #byValue = new Map<string, OpenaiKey>();
  readonly #audit: OpenaiAuditLog[] = [];
  readonly #adminUser = { id: generateOpenaiId('user-', Math.random), email: 'admin@example.com', name: 'Org Admin' };

  constructor(options: OpenaiSandboxOptions = {}) {
    this.#clock = options.clock ?? systemClock;
    this.adminKey = generateOpenaiKey('sk-admin', Math.random);
    this.adminKeyId = generateOpenaiId('key_', Math.random);
    for (const id of options.projects ?? ['proj_default0000000000000000']) this.#project(id);
    const r = this.#router;
    r.add('GET', '/v1/models', 'openai:GET /v1/models', (req) => this.#models(req));
    r.add('GET', `${ORG}/projects`, 'openai:GET /organization/projects', (req) => this.#listProjects(req));
    r.add(
      'POST',
      `${ORG}/projects/:project/service_accounts`,
      'openai:POST /organization/projects/{project_id}/service_accounts',
      (req, p) => this.#createServiceAccount(req, p.project!),
    );
    r.add(
      'POST',
      `${ORG}/projects/:project/service_accounts/:account/api_keys`,
      'openai:POST /organization/projects/{project_id}/service_accounts/{service_account_id}/api_keys',
      (req, p) => this.#createServiceAccountKey(req, p.project!, p.account!),
    );
    r.add(
      'GET',
      `${ORG}/projects/:project/api_keys`,
      'openai:GET /organization/projects/{project_id}/api_keys',
      (req, p) => this.#listKeys(req, p.project!),
    );
    r.add(
      'GET',
      `${ORG}/projects/:project/api_keys/:key`,
      'openai:GET /organization/projects/{project_id}/api_keys/{key_id}',
      (req, p) => this.#getKey(req, p.project!, p.key!),
    );
    r.add(
      'DELETE',
      `${ORG}/projects/:project/api_keys/:key`,
      'openai:DELETE /organization/projects/{project_id}/api_keys/{key_id}',
      (req, p) => this.#deleteKey(req, p.project!, p.key!),
    );
    r.add('GET', `${ORG}/audit_logs`, 'openai:GET /organization/audit_logs', (req) => this.#auditLogs(req));
  }

  load(seed: SandboxSeed): void {
    for (const seeded of seed.keys) {
      if (seeded.provider !== this.name || seeded.status !== 'active') continue;
      const project = this.#project(seeded.account);
      const createdAt = Math.floor(Date.parse(seeded.createdAt) / 1000);
      let owner: OpenaiKey['owner'];
      if (seeded.secret.startsWith('sk-svcacct-')) {
        const account = {
          id: generateOpenaiId('svc_acct_', Math.random),
          projectId: project.id,
          name: seeded.name,
          createdAt,
        };
        this.#serviceAccounts.set(account.id, account);
        owner = { type: 'service_account', serviceAccountId: account.id };
      } else {
        const email = seeded.createdBy ?? 'someone@example.com';
        owner = {
          type: 'user',
          user: { id: generateOpenaiId('user-', Math.random), email, name: email.split('@')[0]! },
        };
      }
      const key: OpenaiKey = {
        id: seeded.providerKeyId,
        projectId: project.id,
        name: seeded.name,
        value: seeded.secret,
        createdAt,
        lastUsedAt: seeded.lastUsedAt ? Math.floor(Date.parse(seeded.lastUsedAt) / 1000) : null,
        owner,
      };
      this.#keys.set(key.id, key);
      this.#byValue.set(key.value, key);
    }
  }

  match(request: SandboxRequest): SandboxRouteMatch | undefined {
    return this.#router.match(request);
  }

  notFound(request: SandboxRequest): SandboxAnswer {
    return error(404, `Invalid URL (${request.method} ${request.path})`, 'invalid_request_error', null);
  }

  rateLimited(retryAfter: string, status?: number): SandboxAnswer {
    const seconds = /^\d+$/.test(retryAfter) ? retryAfter : '1';
    const answer = error(status ?? 429, 'Rate limit reached for requests', 'requests', 'rate_limit_exceeded');
    return {
      ...answer,
      headers: {
        'retry-after': retryAfter,
        'x-ratelimit-limit-requests': String(RATE_LIMIT_REQUESTS),
        'x-ratelimit-remaining-requests': '0',
        'x-ratelimit-reset-requests': `${seconds}s`,
      },
    };
  }

  failure(status: number, echo?: string): SandboxAnswer {
    return error(
      status,
      `The server had an error while processing your request.${echo ? ` (key ${echo})` : ''}`,
      'server_error',
      null,
    );
  }

  callerSecret(request: SandboxRequest): string | undefined {
    return bearerToken(request);
  }

  rateLimitKey(request: SandboxRequest): string {
    return bearerToken(request) ?? request.remoteAddress;
  }

  /** Adds a project, as an organisation owner would in the dashboard. */
  addProject(id: string, name?: string): void {
    this.#project(id, name);
  }

  auditLog(): OpenaiAuditLog[] {
    return [...this.#audit];
  }

  groundTruth(): unknown {
    return {
      projects: [...this.#projects.values()].map((p) => ({ id: p.id, name: p.name })),
      serviceAccounts: [...this.#serviceAccounts.values()].map((a) => ({
        id: a.id,
        project: a.projectId,
        name: a.name,
      })),
      keys: [...this.#keys.values()].map((k) => ({
        id: k.id,
        project: k.projectId,
        name: k.name,
        owner: k.owner.type,
        lastUsedAt: k.lastUsedAt,
      })),
    };
  }

  #project(id: string, name?: string): OpenaiProject {
    let project = this.#projects.get(id);
    if (!project) {
      project = { id, name: name ?? `Project ${id.slice(-6)}`, createdAt: Math.floor(this.#clock().getTime() / 1000) };
      this.#projects.set(id, project);
    }
    return project;
  }

  #now(): number {
    return Math.floor(this.#clock().getTime() / 1000);
  }

  #admin(request: SandboxRequest): SandboxAnswer | undefined {
    const key = bearerToken(request);
    if (key === this.adminKey) return undefined;
    if (key && this.#byValue.has(key)) {
      return error(
        403,
        'You have insufficient permissions for this operation. The admin API needs an admin key (sk-admin-).',
        'invalid_request_error',
        'insufficient_permissions',
      );
    }
    return this.#invalidKey(key);
  }

  #invalidKey(key: string | undefined): SandboxAnswer {
    const shown = key ? redactedOpenaiKey(key) : 'none';
    return error(
      401,
      `Incorrect API key provided: ${shown}. You can find your API key at https://platform.openai.com/account/api-keys.`,
      'invalid_request_error',
      'invalid_api_key',
    );
  }

  #keyJson(key: OpenaiKey) {
    const serviceAccount =
      key.owner.type === 'service_account' ? this.#serviceAccounts.get(key.owner.serviceAccountId) : undefined;
    return {
      object: 'organization.project.api_key',
      id: key.id,
      name: key.name,
      redacted_value: redactedOpenaiKey(key.value),
      created_at: key.createdAt,
      last_used_at: key.lastUsedAt,
      owner:
        key.owner.type === 'user'
          ? { type: 'user', user: { object: 'organization.project.user', ...key.owner.user, role: 'member' } }
          : {
              type: 'service_account',
              service_account: {
                object: 'organization.project.service_account',
                id: key.owner.serviceAccountId,
                name: serviceAccount?.name ?? '',
                role: 'member',
                created_at: serviceAccount?.createdAt ?? key.createdAt,
              },
            },
    };
  }

  #models(request: SandboxRequest): SandboxAnswer {
    const value = bearerToken(request);
    const key = value ? this.#byValue.get(value) : undefined;
    if (!key) return this.#invalidKey(value);
    key.lastUsedAt = this.#now();
    return {
      status: 200,
      headers: { 'openai-project': key.projectId },
      body: {
        object: 'list',
        data: [
          { id: 'gpt-4o', object: 'model', created: 1715367049, owned_by: 'system' },
          { id: 'text-embedding-3-small', object: 'model', created: 1705948997, owned_by: 'system' },
        ],
      },
    };
  }

  #listProjects(request: SandboxRequest): SandboxAnswer {
    const refused = this.#admin(request);
    if (refused) return refused;
    return page(
      request,
      [...this.#projects.values()].map((p) => ({
        object: 'organization.project',
        id: p.id,
        name: p.name,
        created_at: p.createdAt,
        archived_at: null,
        status: 'active',
      })),
    );
  }

  #createServiceAccount(request: SandboxRequest, projectId: string): SandboxAnswer {
    const refused = this.#admin(request);
    if (refused) return refused;
    const project = this.#projects.get(projectId);
    if (!project) return error(404, `No such project: ${projectId}`, 'invalid_request_error', null);
    const body = parse(request.text) as { name?: unknown };
    if (typeof body.name !== 'string' || body.name === '') {
      return error(
        400,
        "Missing required parameter: 'name'.",
        'invalid_request_error',
        'missing_required_parameter',
        'name',
      );
    }
    const account = {
      id: generateOpenaiId('svc_acct_', Math.random),
      projectId,
      name: body.name,
      createdAt: this.#now(),
    };
    this.#serviceAccounts.set(account.id, account);
    this.#event('service_account.created', project, { id: account.id, data: { role: 'member' } });
    const key = this.#mintServiceAccountKey(project, account, 'Secret Key');
    return {
      status: 200,
      body: {
        object: 'organization.project.service_account',
        id: account.id,
        name: account.name,
        role: 'member',
        created_at: account.createdAt,
        api_key: {
          object: 'organization.project.service_account.api_key',
          value: key.value,
          name: key.name,
          created_at: key.createdAt,
          id: key.id,
        },
      },
    };
  }

  #createServiceAccountKey(request: SandboxRequest, projectId: string, accountId: string): SandboxAnswer {
    const refused = this.#admin(request);
    if (refused) return refused;
    const project = this.#projects.get(projectId);
    const account = this.#serviceAccounts.get(accountId);
    if (!project || !account || account.projectId !== projectId) {
      return error(404, `No such service account: ${accountId}`, 'invalid_request_error', null);
    }
    const body = parse(request.text) as { name?: unknown };
    const key = this.#mintServiceAccountKey(project, account, typeof body.name === 'string' ? body.name : 'Secret Key');
    return {
      status: 200,
      body: {
        object: 'organization.project.service_account.api_key',
        id: key.id,
        name: key.name,
        value: key.value,
        created_at: key.createdAt,
        expires_at: null,
      },
    };
  }

  #mintServiceAccountKey(project: OpenaiProject, account: OpenaiServiceAccount, name: string): OpenaiKey {
    const key: OpenaiKey = {
      id: generateOpenaiId('key_', Math.random),
      projectId: project.id,
      name,
      value: generateOpenaiKey('sk-svcacct', Math.random),
      createdAt: this.#now(),
      lastUsedAt: null,
      owner: { type: 'service_account', serviceAccountId: account.id },
    };
    this.#keys.set(key.id, key);
    this.#byValue.set(key.value, key);
    this.#event('api_key.created', project, { id: key.id, data: { scopes: ['/v1/*'] } });
    return key;
  }

  #listKeys(request: SandboxRequest, projectId: string): SandboxAnswer {
    const refused = this.#admin(request);
    if (refused) return refused;
    if (!this.#projects.has(projectId))
      return error(404, `No such project: ${projectId}`, 'invalid_request_error', null);
    return page(
      request,
      [...this.#keys.values()].filter((k) => k.projectId === projectId).map((k) => this.#keyJson(k)),
    );
  }

  #getKey(request: SandboxRequest, projectId: string, keyId: string): SandboxAnswer {
    const refused = this.#admin(request);
    if (refused) return refused;
    const key = this.#keys.get(keyId);
    if (!key || key.projectId !== projectId)
      return error(404, `No such API key: ${keyId}`, 'invalid_request_error', null);
    return { status: 200, body: this.#keyJson(key) };
  }

  #deleteKey(request: SandboxRequest, projectId: string, keyId: string): SandboxAnswer {
    const refused = this.#admin(request);
    if (refused) return refused;
    const key = this.#keys.get(keyId);
    if (!key || key.projectId !== projectId)
      return error(404, `No such API key: ${keyId}`, 'invalid_request_error', null);
    this.#keys.delete(keyId);
    this.#byValue.delete(key.value);
    this.#event('api_key.deleted', this.#projects.get(projectId)!, { id: keyId });
    return { status: 200, body: { object: 'organization.project.api_key.deleted', id: keyId, deleted: true } };
  }

  /** Filters: `event_types[]`, `resource_ids[]`, `effective_at[gt|gte|lt|lte]`; paged by `limit` and `after`. */
  #auditLogs(request: SandboxRequest): SandboxAnswer {
    const refused = this.#admin(request);
    if (refused) return refused;
    const types = request.query.getAll('event_types[]');
    const resources = request.query.getAll('resource_ids[]');
    const bound = (name: string) => (request.query.has(name) ? Number(request.query.get(name)) : undefined);
    const gt = bound('effective_at[gt]');
    const gte = bound('effective_at[gte]');
    const lt = bound('effective_at[lt]');
    const lte = bound('effective_at[lte]');
    const entries = [...this.#audit].reverse().filter((entry) => {
      const resourceId = (entry[entry.type] as { id?: string } | undefined)?.id;
      return (
        (types.length === 0 || types.includes(entry.type)) &&
        (resources.length === 0 || (resourceId !== undefined && resources.includes(resourceId))) &&
        (gt === undefined || entry.effective_at > gt) &&
        (gte === undefined || entry.effective_at >= gte) &&
        (lt === undefined || entry.effective_at < lt) &&
        (lte === undefined || entry.effective_at <= lte)
      );
    });
    return page(request, entries);
  }

  #event(type: string, project: OpenaiProject, details: Record<string, unknown>): void {
    this.#audit.push({
      id: generateOpenaiId('audit_log-', Math.random),
      type,
      effective_at: this.#now(),
      project: { id: project.id, name: project.name },
      actor: {
        type: 'api_key',
        api_key: { id: this.adminKeyId, type: 'user', user: { id: this.#adminUser.id, email: this.#adminUser.email } },
      },
      [type]: details,
    });
  }
}

/** OpenAI's cursor paging: `limit` (1-100, default 20) and `after` (the last id seen). */
function page(request: SandboxRequest, items: Array<{ id: string }>): SandboxAnswer {
  const limit = Number(request.query.get('limit') ?? 20);
  if (!Number.isInteger(limit) || limit < 1 || limit > 100) {
    return error(400, 'limit must be between 1 and 100', 'invalid_request_error', 'invalid_value', 'limit');
  }
  const after = request.query.get('after');
  const start = after ? items.findIndex((item) => item.id === after) + 1 : 0;
  const data = items.slice(start, start + limit);
  return {
    status: 200,
    body: {
      object: 'list',
      data,
      first_id: data[0]?.id ?? null,
      last_id: data.at(-1)?.id ?? null,
      has_more: start + limit < items.length,
    },
  };
}

function error(
  status: number,
  message: string,
  type: string,
  code: string | null,
  param: string | null = null,
): SandboxAnswer {
  return { status, body: { error: { message, type, param, code } } };
}

function parse(text: string): unknown {
  try {
    return JSON.parse(text || '{}');
  } catch {
    return {};
  }
}
