// A git host for the registry's shared remote (src/registry/registry-remote.ts): bare repositories served over
// smart HTTP by `git http-backend` (git-http-hosting.ts), pushes included, behind one token — as GitHub or GitLab
// take a token over HTTPS (Basic auth with the token as password, or a Bearer header). It counts what it served and
// whether each request carried the token, so tests can show the token reached git and nothing else.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { GitHttpHosting, gitHttpPath, gitHttpToken } from './git-http-hosting.js';
import type { SandboxRequest } from './sandbox-server.js';

export interface GitRemoteRequestRecord {
  service: string;
  authorized: boolean;
}

export class GitRemoteSandbox {
  readonly hosting = new GitHttpHosting();
  readonly requests: GitRemoteRequestRecord[] = [];
  readonly #token: string;
  readonly #server: Server;
  #url = '';

  private constructor(token: string) {
    this.#token = token;
    this.#server = createServer((incoming, response) => {
      void this.#answer(incoming).then(
        ({ status, headers, body }) => {
          response.writeHead(status, headers);
          response.end(body);
        },
        (error: unknown) => {
          response.writeHead(500, { 'content-type': 'text/plain' });
          response.end(`git remote sandbox: ${(error as Error).message}`);
        },
      );
    });
  }

  /** Listens on 127.0.0.1 (a free port); every request must carry `token`. */
  static async start(options: { token: string }): Promise<GitRemoteSandbox> {
    const sandbox = new GitRemoteSandbox(options.token);
    await new Promise<void>((resolve) => sandbox.#server.listen(0, '127.0.0.1', resolve));
    sandbox.#url = `http://127.0.0.1:${(sandbox.#server.address() as AddressInfo).port}`;
    return sandbox;
  }

  /** The URL git clones, fetches and pushes `repository` (`acme/registry`) at. */
  repositoryUrl(repository: string): string {
    return `${this.#url}/${repository}.git`;
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
    this.hosting.remove();
  }

  async #answer(
    incoming: IncomingMessage,
  ): Promise<{ status: number; headers?: Record<string, string>; body?: Buffer | string }> {
    const chunks: Buffer[] = [];
    for await (const chunk of incoming) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const url = new URL(incoming.url ?? '/', 'http://sandbox');
    const request: SandboxRequest = {
      method: incoming.method ?? 'GET',
      path: url.pathname,
      query: url.searchParams,
      headers: incoming.headers,
      body,
      text: '',
      remoteAddress: incoming.socket.remoteAddress ?? '127.0.0.1',
    };
    const path = gitHttpPath(request.path, { push: true });
    if (!path || !this.hosting.has(path.repository)) {
      return { status: 404, headers: { 'content-type': 'text/plain' }, body: 'Repository not found.' };
    }
    const service = path.service === 'info/refs' ? `info/refs?${url.searchParams.get('service') ?? ''}` : path.service;
    const authorized = gitHttpToken(request)?.token === this.#token;
    this.requests.push({ service, authorized });
    if (!authorized) {
      return {
        status: 401,
        headers: { 'www-authenticate': 'Basic realm="keyledger registry"', 'content-type': 'text/plain' },
        body: 'Authentication failed.',
      };
    }
    const answer = await this.hosting.serve(request, path, { pusher: 'keyledger' });
    const answerBody = answer.body;
    return {
      status: answer.status,
      ...(answer.headers ? { headers: answer.headers } : {}),
      body: Buffer.isBuffer(answerBody) ? answerBody : String(answerBody ?? ''),
    };
  }
}
