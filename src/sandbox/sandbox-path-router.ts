// Matches REST paths such as `/repos/:owner/:repo/keys/:key_id` for sandbox servers whose provider routes by
// path (GitHub, GitLab). Query-protocol providers (AWS) route by their `Action` parameter instead.
import type { SandboxAnswer, SandboxRequest, SandboxRouteMatch } from './sandbox-server.js';

export type SandboxRouteHandler = (
  request: SandboxRequest,
  params: Record<string, string>,
) => SandboxAnswer | Promise<SandboxAnswer>;

interface CompiledRoute {
  method: string;
  operation: string;
  pattern: RegExp;
  names: string[];
  handler: SandboxRouteHandler;
}

export class SandboxPathRouter {
  readonly #routes: CompiledRoute[] = [];

  /** Adds a route; `operation` names it for faults and request counts, e.g. `github:POST /repos/{o}/{r}/keys`. */
  add(method: string, path: string, operation: string, handler: SandboxRouteHandler): this {
    const names: string[] = [];
    const source = path
      .split('/')
      .map((part) => {
        if (part.startsWith(':')) {
          names.push(part.slice(1));
          return '([^/]+)';
        }
        return part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      })
      .join('/');
    this.#routes.push({ method, operation, pattern: new RegExp(`^${source}/?$`), names, handler });
    return this;
  }

  match(request: SandboxRequest): SandboxRouteMatch | undefined {
    for (const route of this.#routes) {
      if (route.method !== request.method) continue;
      const found = route.pattern.exec(request.path);
      if (!found) continue;
      const params: Record<string, string> = {};
      route.names.forEach((name, index) => {
        params[name] = decodeURIComponent(found[index + 1] ?? '');
      });
      return { operation: route.operation, handle: () => route.handler(request, params) };
    }
    return undefined;
  }
}
