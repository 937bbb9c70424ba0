// Runs a discovery source the way src/audit/key-observations.ts does, with a fingerprint lookup over planted
// secrets, and collects what it yields. Every test also checks that no observation carries a planted value.
import { expect } from 'vitest';
import type { DiscoverySource, SecretObservation } from '../discovery-source.js';

export async function observeAll(
  source: DiscoverySource,
  options: Record<string, string>,
  registered: Readonly<Record<string, string>> = {},
  env: NodeJS.ProcessEnv = {},
): Promise<SecretObservation[]> {
  const byValue = new Map(Object.entries(registered).map(([keyId, value]) => [value, keyId]));
  const out: SecretObservation[] = [];
  for await (const observation of source.observe({ options, env, matchSecret: (value) => byValue.get(value) })) {
    out.push(observation);
  }
  const text = JSON.stringify(out);
  for (const value of byValue.keys()) expect(text).not.toContain(value);
  return out;
}

/** The observations as `location name -> keyId|-`, sorted: easy to compare whole. */
export function summarise(observations: readonly SecretObservation[]): string[] {
  return observations.map((o) => `${o.location} ${o.name} -> ${o.keyId ?? '-'}`).sort();
}
