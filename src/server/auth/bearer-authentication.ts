// The API's authentication hook: `Authorization: Bearer <token>` -> the token's Principal (kind `api-token`).
// Registered inside the API's own prefix (src/server/api/api-module.ts), so other surfaces keep their own bearer
// schemes (SCIM's identity-provider token, src/idp/). A request without the header passes through unauthenticated
// (a session hook may have set a principal; the route refuses it otherwise); a token that proves nothing is a
// 401 and an event. The token text is never logged: it is wrapped in a SecretValue as soon as it is read.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { SecretValue } from '../../secrets/secret-value.js';
import { HttpProblem } from '../problem-details.js';
import type { AccessDenials } from './access-denials.js';
import type { ApiTokens } from './api-tokens.js';

const BEARER = /^Bearer[ \t]+(\S+)[ \t]*$/i;

export function addBearerAuthentication(server: FastifyInstance, tokens: ApiTokens, denials: AccessDenials): void {
  server.addHook('onRequest', async (request: FastifyRequest) => {
    const header = request.headers.authorization;
    if (header === undefined || request.principal) return;
    const match = BEARER.exec(header);
    if (!match) {
      await denials.record(request, undefined, 'authorization header is not a bearer token');
      throw new HttpProblem(401, 'E_UNAUTHENTICATED', 'send `Authorization: Bearer <token>`');
    }
    const result = await tokens.authenticate(new SecretValue(match[1]!));
    if ('principal' in result) {
      request.principal = result.principal;
      return;
    }
    await denials.record(request, undefined, `token ${result.refused}`, result.keyId);
    if (result.refused === 'expired')
      throw new HttpProblem(401, 'E_TOKEN_EXPIRED', 'the token has expired: ask an admin for a new one');
    throw new HttpProblem(401, 'E_UNAUTHENTICATED', 'the token is not valid');
  });
}
