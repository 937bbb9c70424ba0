// How a discovery run that could not finish reports why (src/audit/key-discovery.ts for providers,
// src/audit/key-observations.ts for the other places keys hide): a KeyledgerError keeps its stable code (the
// adapter's own, with the provider's message); anything else is the run's fallback code with the error's message.
import { KeyledgerError } from '../errors/keyledger-error.js';

export interface DiscoveryRunError {
  code: string;
  message: string;
}

export function discoveryRunError(error: unknown, fallbackCode: string): DiscoveryRunError {
  if (error instanceof KeyledgerError) return { code: error.code, message: error.message };
  return { code: fallbackCode, message: error instanceof Error ? error.message : String(error) };
}
