// How a provider sandbox reads the credential a request carries, as the real APIs do: one home for the
// `Authorization: Bearer` parsing every HTTP sandbox under sandbox/providers/ shares.
import type { SandboxRequest } from './sandbox-server.js';

const BEARER = /^Bearer\s+(\S+)$/i;
/** GitHub also takes its older `token <value>` scheme. */
const BEARER_OR_TOKEN = /^(?:Bearer|token)\s+(\S+)$/i;

/** The token of `Authorization: Bearer <token>` (or `token <token>` where `orTokenScheme`); undefined without one. */
export function bearerToken(request: SandboxRequest, options: { orTokenScheme?: boolean } = {}): string | undefined {
  const header = request.headers.authorization?.trim() ?? '';
  return (options.orTokenScheme ? BEARER_OR_TOKEN : BEARER).exec(header)?.[1];
}
