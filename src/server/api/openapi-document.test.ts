// The OpenAPI document matches what is served: every route the API registers is in it with its method, every
// operation in it is served, the document has the OpenAPI 3.1 shape (checked below field by field: versions,
// operations, parameters, responses, references that resolve), and real responses parse with the very schemas the
// document was generated from.
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createTestBackend } from '../../db/test-support/test-databases.js';
import type { ServerModule } from '../server-module.js';
import { type ApiHarness, startApiHarness } from '../test-support/api-harness.js';
import { API_PREFIX, apiModule, OPENAPI_PATH } from './api-module.js';
import { eventPageResponse, keyListResponse, keyResponse, peopleResponse, teamsResponse } from './api-schemas.js';

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;

/** The parts of the OpenAPI 3.1 schema (spec.openapis.org/oas/3.1/schema) this document uses, strictly. */
const reference = z.strictObject({ $ref: z.string().startsWith('#/') });
const parameter = z.strictObject({
  name: z.string().min(1),
  in: z.enum(['query', 'header', 'path', 'cookie']),
  required: z.boolean(),
  description: z.string().optional(),
  schema: z.record(z.string(), z.unknown()),
});
const mediaTypes = z.record(
  z.string().regex(/^[\w.+-]+\/[\w.+-]+$/),
  z.strictObject({ schema: z.record(z.string(), z.unknown()) }),
);
const response = z.union([
  reference,
  z.strictObject({
    description: z.string(),
    headers: z.record(z.string(), z.strictObject({ schema: z.record(z.string(), z.unknown()) })).optional(),
    content: mediaTypes.optional(),
  }),
]);
const operation = z.strictObject({
  operationId: z.string().regex(/^[A-Za-z][A-Za-z0-9]*$/),
  summary: z.string().min(1),
  tags: z.array(z.string()).min(1),
  security: z.array(z.record(z.string(), z.array(z.string()))),
  parameters: z.array(parameter).optional(),
  requestBody: z.strictObject({ required: z.boolean(), content: mediaTypes }).optional(),
  responses: z
    .record(z.string().regex(/^([1-5][0-9]{2}|default)$/), response)
    .refine((value) => Object.keys(value).length > 0),
});
const document = z.strictObject({
  openapi: z.string().regex(/^3\.1\.\d+$/),
  jsonSchemaDialect: z.url(),
  info: z.strictObject({ title: z.string(), version: z.string(), description: z.string().optional() }),
  servers: z.array(z.strictObject({ url: z.string() })).optional(),
  paths: z.record(z.string().regex(/^\//), z.partialRecord(z.enum(METHODS), operation)),
  components: z.strictObject({
    securitySchemes: z.record(
      z.string(),
      z.strictObject({ type: z.literal('http'), scheme: z.string(), description: z.string() }),
    ),
    schemas: z.record(z.string(), z.record(z.string(), z.unknown())),
    responses: z.record(z.string(), response),
  }),
});

/** Every `$ref` in a JSON value. */
function refsOf(value: unknown, found: string[] = []): string[] {
  if (Array.isArray(value)) for (const item of value) refsOf(item, found);
  else if (value && typeof value === 'object')
    for (const [key, item] of Object.entries(value)) {
      if (key === '$ref' && typeof item === 'string') found.push(item);
      else refsOf(item, found);
    }
  return found;
}

function resolvePointer(root: unknown, pointer: string): unknown {
  return pointer
    .slice(2)
    .split('/')
    .reduce<unknown>(
      (node, part) => (node as Record<string, unknown> | undefined)?.[part.replace(/~1/g, '/').replace(/~0/g, '~')],
      root,
    );
}

describe('the OpenAPI document', () => {
  const backend = createTestBackend('sqlite');
  const served: Array<{ method: string; url: string }> = [];
  // Registered first, so it sees every route the API module adds after it (onRoute covers child plugins too).
  const routeRecorder: ServerModule = {
    name: 'route-recorder',
    register: async (server: FastifyInstance) => {
      server.addHook('onRoute', (route) => {
        for (const method of [route.method].flat()) served.push({ method: method.toLowerCase(), url: route.url });
      });
    },
  };
  let api: ApiHarness;
  // biome-ignore lint/suspicious/noExplicitAny: the document's JSON, walked field by field.
  let doc: Record<string, any>;

  beforeAll(async () => {
    api = await startApiHarness(backend, { modules: [routeRecorder, apiModule] });
    doc = (await (await fetch(`${api.url}${OPENAPI_PATH}`)).json()) as typeof doc;
  }, 60_000);
  afterAll(async () => {
    await api?.stop();
    await backend.cleanup();
  });

  it('has the OpenAPI 3.1 shape, unique operation ids, declared path parameters and references that resolve', () => {
    const parsed = document.safeParse(doc);
    expect(parsed.error?.issues ?? []).toEqual([]);
    // biome-ignore lint/suspicious/noExplicitAny: operations of any shape, checked below.
    const operations = Object.entries(doc.paths as Record<string, Record<string, any>>).flatMap(([path, item]) =>
      Object.entries(item).map(([method, op]) => ({ path, method, op })),
    );
    const ids = operations.map(({ op }) => op.operationId);
    expect(new Set(ids).size).toBe(ids.length);
    for (const { path, op } of operations) {
      const templated = [...path.matchAll(/\{(\w+)\}/g)].map((match) => match[1]).sort();
      const declared = (op.parameters ?? [])
        .filter((p: { in: string }) => p.in === 'path')
        .map((p: { name: string }) => p.name)
        .sort();
      expect(declared, path).toEqual(templated);
    }
    for (const ref of refsOf(doc)) expect(resolvePointer(doc, ref), ref).toBeDefined();
  });

  it('lists every route the API serves, and serves every operation it lists', () => {
    const fromServer = served
      .filter((route) => route.url.startsWith(API_PREFIX) && route.method !== 'head')
      .map((route) => `${route.method} ${route.url.replace(/:(\w+)/g, '{$1}')}`)
      .sort();
    const fromDocument = Object.entries(doc.paths as Record<string, Record<string, unknown>>)
      .flatMap(([path, item]) => Object.keys(item).map((method) => `${method} ${path}`))
      .sort();
    expect(fromServer.length).toBeGreaterThan(10);
    expect(fromDocument).toEqual(fromServer);
  });

  it('describes what is served: real responses parse with the schemas the document came from', async () => {
    const keyId = (
      await api.call('admin', 'POST', '/api/v1/keys', {
        body: { provider: 'internal', team: 'payments', owner: 'alice@example.com', purpose: 'openapi sample' },
      })
    ).body.key_id;
    const samples: Array<[string, z.ZodType]> = [
      ['/api/v1/keys', keyListResponse],
      [`/api/v1/keys/${keyId}`, keyResponse],
      [`/api/v1/keys/${keyId}/history`, eventPageResponse],
      ['/api/v1/events', eventPageResponse],
      ['/api/v1/teams', teamsResponse],
      ['/api/v1/people', peopleResponse],
    ];
    for (const [path, schema] of samples) {
      const { status, body } = await api.call('admin', 'GET', path);
      expect(status, path).toBe(200);
      expect(schema.safeParse(body).error?.issues ?? [], path).toEqual([]);
    }
    const getKey = doc.paths['/api/v1/keys/{keyId}'].get;
    expect(getKey.responses['200'].content['application/json'].schema.properties.entry.properties.key_id).toBeDefined();
    expect(doc.paths['/api/v1/keys/{keyId}/revocation'].post.parameters).toContainEqual(
      expect.objectContaining({
        name: 'If-Match',
        in: 'header',
        required: true,
        description: 'the ETag of the key as last read',
      }),
    );
    expect(doc.paths['/api/v1/teams/{team}'].patch.parameters).toContainEqual(
      expect.objectContaining({ name: 'If-Match', description: 'the ETag of the team as last read' }),
    );
  });
});
