// `scan --remediate`: every attributed finding is recorded; a key is rotated (trigger leak) when its secret was
// found, not when only its provider key id (an AWS access key id) was.
import { expect, it } from 'vitest';
import type { Finding, FindingOwner } from '../findings/finding.js';
import { remediateFindings } from './finding-remediation.js';

function finding(ruleId: string, line: number, owner: FindingOwner): Finding {
  return {
    ruleId,
    description: ruleId,
    startLine: line,
    endLine: line,
    startColumn: 1,
    endColumn: 10,
    match: undefined,
    secret: undefined,
    file: 'app.env',
    entropy: 4,
    tags: [],
    fingerprint: `app.env:${ruleId}:${line}`,
    owner,
  };
}

it('records every finding and plans a leak rotation only for keys whose secret was found', async () => {
  const recorded: Array<[string, Record<string, unknown>]> = [];
  const planned: string[] = [];
  const results = await remediateFindings(
    [
      finding('aws-access-token', 2, { keyId: 'only-id', matchedBy: 'provider-key-id' }),
      finding('aws-access-token', 5, { keyId: 'both', matchedBy: 'provider-key-id' }),
      finding('aws-secret-access-key', 6, { keyId: 'both' }),
    ],
    {
      recordFinding: async (keyId, data) => {
        recorded.push([keyId, data]);
      },
      planLeakRotation: async (keyId) => {
        planned.push(keyId);
        return { rotationId: `rot-${keyId}`, created: true };
      },
    },
    'test',
  );
  expect(planned).toEqual(['both']);
  expect(results).toEqual([
    { keyId: 'only-id', findings: 1, onlyKeyId: true },
    { keyId: 'both', findings: 2, rotationId: 'rot-both', newRotation: true },
  ]);
  expect(recorded.map(([keyId, data]) => [keyId, data.rule, data.matched_by ?? null])).toEqual([
    ['only-id', 'aws-access-token', 'provider-key-id'],
    ['both', 'aws-access-token', 'provider-key-id'],
    ['both', 'aws-secret-access-key', null],
  ]);
});
