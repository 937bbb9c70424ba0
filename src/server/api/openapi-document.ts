// The OpenAPI 3.1 document of the JSON API, generated from the route table's zod schemas with zod 4's
// `z.toJSONSchema` (JSON Schema 2020-12, the dialect OpenAPI 3.1 uses), served at `/openapi.json`.
import { z } from 'zod';
import { PROBLEM_CONTENT_TYPE } from '../problem-details.js';
import type { ApiRoute } from './api-route.js';

export const OPENAPI_VERSION = '3.1.0';

type JsonSchema = Record<string, unknown>;

function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as JsonSchema;
  return rest;
}

/** `/keys/:keyId` -> `/keys/{keyId}`. */
export function openApiPath(prefix: string, path: string): string {
  return `${prefix}${path}`.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
}

const problemSchema: JsonSchema = {
  type: 'object',
  required: ['type', 'title', 'status', 'detail', 'code'],
  properties: {
    type: { type: 'string', format: 'uri' },
    title: { type: 'string' },
    status: { type: 'integer' },
    detail: { type: 'string' },
    code: { type: 'string', description: 'the stable error code (E_...)' },
    instance: { type: 'string' },
    details: { type: 'object' },
  },
};

function parametersOf(route: ApiRoute): JsonSchema[] {
  const parameters: JsonSchema[] = [];
  for (const [location, schema] of [
    ['path', route.params],
    ['query', route.query],
  ] as const) {
    if (!schema) continue;
    const object = jsonSchema(schema, 'input') as { properties?: Record<string, JsonSchema>; required?: string[] };
    for (const [name, property] of Object.entries(object.properties ?? {})) {
      const { description, ...propertySchema } = property as { description?: string };
      parameters.push({
        name,
        in: location,
        required: location === 'path' || (object.required ?? []).includes(name),
        ...(description ? { description } : {}),
        schema: propertySchema,
      });
    }
  }
  return parameters;
}

export function buildOpenApiDocument(options: {
  prefix: string;
  routes: readonly ApiRoute[];
  version: string;
  serverUrl?: string;
}): JsonSchema {
  const paths: Record<string, Record<string, JsonSchema>> = {};
  for (const route of options.routes) {
    const path = openApiPath(options.prefix, route.path);
    const status = String(route.status ?? 200);
    const errors: Record<string, JsonSchema> = {};
    for (const code of [
      '400',
      '401',
      '403',
      ...(route.params ? ['404'] : []),
      ...(route.ifMatch ? ['412', '428'] : []),
    ])
      errors[code] = { $ref: '#/components/responses/Problem' };
    const parameters = parametersOf(route);
    if (route.ifMatch)
      parameters.push({
        name: 'If-Match',
        in: 'header',
        required: true,
        description: `the ETag of the ${route.ifMatch} as last read`,
        schema: { type: 'string' },
      });
    paths[path] ??= {};
    paths[path][route.method.toLowerCase()] = {
      operationId: route.operationId,
      summary: route.summary,
      tags: [route.tag],
      security: [{ bearerToken: [route.scope] }],
      ...(parameters.length > 0 ? { parameters } : {}),
      ...(route.body
        ? {
            requestBody: {
              required: true,
              content: { 'application/json': { schema: jsonSchema(route.body, 'input') } },
            },
          }
        : {}),
      responses: {
        [status]: {
          description: route.summary,
          ...(route.method === 'GET' ? { headers: { ETag: { schema: { type: 'string' } } } } : {}),
          content: { 'application/json': { schema: jsonSchema(route.response, 'output') } },
        },
        ...Object.fromEntries(
          (route.otherResponses ?? []).map((other) => [
            String(other.status),
            {
              description: other.description,
              content: { 'application/json': { schema: jsonSchema(other.response, 'output') } },
            },
          ]),
        ),
        ...(route.method === 'GET' ? { '304': { description: 'not modified (If-None-Match)' } } : {}),
        ...errors,
        default: { $ref: '#/components/responses/Problem' },
      },
    };
  }
  return {
    openapi: OPENAPI_VERSION,
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    info: {
      title: 'keyledger API',
      version: options.version,
      description: 'API keys as identities: the registry, rotations, findings, people and audits (docs/server.md).',
    },
    ...(options.serverUrl ? { servers: [{ url: options.serverUrl }] } : {}),
    paths,
    components: {
      securitySchemes: {
        bearerToken: {
          type: 'http',
          scheme: 'bearer',
          description: 'an API token from `keyledger token create` (shown once)',
        },
      },
      schemas: { Problem: problemSchema },
      responses: {
        Problem: {
          description: 'an RFC 9457 problem',
          content: { [PROBLEM_CONTENT_TYPE]: { schema: { $ref: '#/components/schemas/Problem' } } },
        },
      },
    },
  };
}
