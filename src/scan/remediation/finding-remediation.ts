// `scan --remediate`: "for every finding: rotate, attribute, audit" (docs/scanner.md). Every finding attributed to a
// registry entry is recorded as a `finding` event (where, by which rule — never the secret), and its key's
// rotation is planned with the `leak` trigger in the rotation journal, where the controller (or
// `keyledger rotate --resume`) carries it out with the usual dual-write window and verification.
import type { Finding } from '../findings/finding.js';

export interface RemediationTarget {
  /** Records one finding in the event log. */
  recordFinding(keyId: string, data: Record<string, unknown>): Promise<void>;
  /** Plans the key's rotation with the `leak` trigger; `created` is false when one is already under way. */
  planLeakRotation(keyId: string): Promise<{ rotationId: string; created: boolean }>;
}

export interface RemediationResult {
  keyId: string;
  findings: number;
  rotationId?: string;
  /** False when a rotation of this key was already planned or running. */
  newRotation?: boolean;
  /** Only the key's provider id was found, not its secret: recorded, no rotation planned. */
  onlyKeyId?: boolean;
  error?: string;
}

export async function remediateFindings(
  findings: readonly Finding[],
  target: RemediationTarget,
  actor: string,
): Promise<RemediationResult[]> {
  const byKey = new Map<string, Finding[]>();
  for (const finding of findings) {
    if (!finding.owner) continue;
    byKey.set(finding.owner.keyId, [...(byKey.get(finding.owner.keyId) ?? []), finding]);
  }
  const results: RemediationResult[] = [];
  for (const [keyId, keyFindings] of byKey) {
    try {
      for (const finding of keyFindings) {
        await target.recordFinding(keyId, {
          actor,
          rule: finding.ruleId,
          file: finding.file,
          line: finding.startLine,
          fingerprint: finding.fingerprint,
          ...(finding.commit ? { commit: finding.commit.sha } : {}),
          ...(finding.liveness ? { live: finding.liveness.live } : {}),
          ...(finding.owner?.matchedBy ? { matched_by: finding.owner.matchedBy } : {}),
        });
      }
      // A key's provider id alone (an AWS access key id without its secret) opens nothing: it is recorded, and the
      // key is rotated only when its secret was found too.
      if (keyFindings.every((finding) => finding.owner?.matchedBy === 'provider-key-id')) {
        results.push({ keyId, findings: keyFindings.length, onlyKeyId: true });
        continue;
      }
      const planned = await target.planLeakRotation(keyId);
      results.push({
        keyId,
        findings: keyFindings.length,
        rotationId: planned.rotationId,
        newRotation: planned.created,
      });
    } catch (error) {
      results.push({
        keyId,
        findings: keyFindings.length,
        error: error instanceof Error ? error.message : String(error),
      });
    }
  }
  return results;
}
