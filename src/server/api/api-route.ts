// One route of the JSON API, as data: its method and path, the zod schemas of its parameters, query, body and
// response, the scope it needs, and its handler. The same definitions register the routes on Fastify (inputs
// parsed by the schemas; a bad one is a 400 problem naming each field) and produce the OpenAPI 3.1 document
// (src/server/api/openapi-document.ts), so the document cannot drift from what is served.
import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { z } from 'zod';
import { hasScope, type Principal } from '../access.js';
import type { AccessDenials } from '../auth/access-denials.js';
import { HttpProblem } from '../problem-details.js';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** The kinds of resource a write names by ETag, as the messages and the OpenAPI document call them. */
export type PreconditionResource = 'key' | 'team';

export interface RouteInput<P, Q, B> {
  params: P;
  query: Q;
  body: B;
  principal: Principal;
  request: FastifyRequest;
}

export interface RouteResult {
  status?: number;
  body: unknown;
  /** The representation's entity tag; default: a hash of the body (GET only). */
  etag?: string;
  location?: string;
}

export interface ApiRoute<P = unknown, Q = unknown, B = unknown> {
  method: HttpMethod;
  /** Fastify form, relative to the API prefix: `/keys/:keyId`. */
  path: string;
  operationId: string;
  summary: string;
  tag: string;
  /** The token scope the route needs (sessions carry `*`). */
  scope: string;
  params?: z.ZodType<P>;
  query?: z.ZodType<Q>;
  body?: z.ZodType<B>;
  response: z.ZodType;
  /** Status of success; default 200. */
  status?: number;
  /** Other successes the handler answers with (a dry run's 200 beside a start's 202), for the OpenAPI document. */
  otherResponses?: ReadonlyArray<{ status: number; description: string; response: z.ZodType }>;
  /** Writes to an existing representation need `If-Match` with its current ETag; names what the ETag is of. */
  ifMatch?: PreconditionResource;
  handler(input: RouteInput<P, Q, B>): Promise<RouteResult>;
}

/** Keeps each route's generic types while the table holds them side by side. */
export function defineRoute<P, Q, B>(route: ApiRoute<P, Q, B>): ApiRoute {
  return route as unknown as ApiRoute;
}

/** A strong entity tag over any JSON value. */
export function etagOf(value: unknown): string {
  return `"${createHash('sha256').update(JSON.stringify(value)).digest('base64url').slice(0, 27)}"`;
}

/** True when an `If-Match` / `If-None-Match` header lists `etag` (or `*`). */
export function etagListed(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  return header.split(',').some((part) => {
    const tag = part.trim();
    return tag === '*' || tag === etag || tag === `W/${etag}`;
  });
}

/** Parses one part of a request with its schema; a failure is a 400 problem that names every field. */
function parsePart<T>(schema: z.ZodType<T> | undefined, value: unknown, part: string): T {
  if (!schema) return undefined as T;
  const parsed = schema.safeParse(value ?? {});
  if (parsed.success) return parsed.data;
  throw new HttpProblem(400, 'E_INVALID_REQUEST', `the request ${part} is invalid`, {
    errors: parsed.error.issues.map((issue) => ({
      in: part,
      field: issue.path.map(String).join('.'),
      message: issue.message,
    })),
  });
}

/** Registers each route on `server` (already under the API prefix). */
export function registerRoutes(server: FastifyInstance, routes: readonly ApiRoute[], denials: AccessDenials): void {
  for (const route of routes) {
    server.route({
      method: route.method,
      url: route.path,
      handler: async (request: FastifyRequest, reply: FastifyReply) => {
        const principal = request.principal;
        if (!principal) {
          await denials.record(request, undefined, 'no credentials');
          throw new HttpProblem(401, 'E_UNAUTHENTICATED', 'this endpoint needs a bearer token or a session');
        }
        if (!hasScope(principal, route.scope)) {
          await denials.record(request, principal, `missing scope ${route.scope}`);
          throw new HttpProblem(403, 'E_SCOPE', `this endpoint needs the scope "${route.scope}"`);
        }
        const input = {
          params: parsePart(route.params, request.params, 'path parameters'),
          query: parsePart(route.query, request.query, 'query'),
          body: parsePart(route.body, request.body, 'body'),
          principal,
          request,
        };
        const result = await route.handler(input);
        const status = result.status ?? route.status ?? 200;
        const etag = result.etag ?? (route.method === 'GET' ? etagOf(result.body) : undefined);
        if (etag) reply.header('etag', etag);
        if (result.location) reply.header('location', result.location);
        if (route.method === 'GET' && etag && etagListed(request.headers['if-none-match'], etag)) {
          return reply.code(304).send();
        }
        return reply.code(status).type('application/json').send(JSON.stringify(result.body));
      },
    });
  }
}

/**
 * Checks `If-Match` against the current ETag of what a write changes: 428 without one, 412 when stale. The
 * messages name the resource (`team "payments"`, `key payments-svc-1`): the check is shared by every route.
 */
export function requireIfMatch(
  request: FastifyRequest,
  currentEtag: string,
  resource: { kind: PreconditionResource; id: string },
): void {
  const named = resource.kind === 'team' ? `team "${resource.id}"` : `key ${resource.id}`;
  const header = request.headers['if-match'];
  if (!header)
    throw new HttpProblem(428, 'E_PRECONDITION_REQUIRED', `send If-Match with the ETag of ${named} as you read it`);
  if (!etagListed(header, currentEtag))
    throw new HttpProblem(412, 'E_PRECONDITION_FAILED', `${named} changed since it was read: read it again`, {
      etag: currentEtag,
    });
}
