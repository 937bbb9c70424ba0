// A client for a sandbox server's control API (CONTROL_PREFIX): inject faults, change the rate limit, read
// request counts, audit logs and ground truth. Used by tests, benches and scripts — never by adapters.
import { request } from 'undici';
import type { RateLimit } from '../providers/provider.js';
import type { SandboxFault, SandboxFaultInput } from './sandbox-faults.js';
import { CONTROL_PREFIX } from './sandbox-server.js';

export class SandboxControlClient {
  readonly baseUrl: string;

  constructor(baseUrl: string) {
    this.baseUrl = baseUrl.replace(/\/+$/, '');
  }

  /** Calls any control route, including a provider's own (`POST tokens` on GitHub's sandbox). */
  async call<T = unknown>(method: 'GET' | 'POST' | 'PUT' | 'DELETE', subpath: string, body?: unknown): Promise<T> {
    const response = await request(`${this.baseUrl}${CONTROL_PREFIX}/${subpath}`, {
      method,
      ...(body !== undefined ? { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } } : {}),
    });
    const text = await response.body.text();
    if (response.statusCode >= 400)
      throw new Error(`sandbox control ${method} ${subpath}: ${response.statusCode} ${text}`);
    return (text ? JSON.parse(text) : undefined) as T;
  }

  addFault(fault: SandboxFaultInput | SandboxFaultInput[]): Promise<SandboxFault[]> {
    return this.call('POST', 'faults', fault);
  }

  clearFaults(): Promise<void> {
    return this.call('DELETE', 'faults');
  }

  /** Sets the limit the sandbox enforces; null lifts it. */
  setRateLimit(limit: RateLimit | null): Promise<unknown> {
    return this.call('PUT', 'rate-limit', limit);
  }

  requestCounts(): Promise<Record<string, number>> {
    return this.call('GET', 'requests');
  }

  auditLog<T = unknown>(): Promise<T> {
    return this.call('GET', 'audit-log');
  }

  groundTruth<T = unknown>(): Promise<T> {
    return this.call('GET', 'ground-truth');
  }
}
