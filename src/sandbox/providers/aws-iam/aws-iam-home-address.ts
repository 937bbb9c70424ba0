// Where the IAM sandbox's recorded uses of a key come from (its CloudTrail history, aws-iam-sandbox.ts): one stable
// address per key, so that the generator can declare it as the key's expected source (src/sandbox/org/).

/** The address a key's recorded uses come from: stable per key, in TEST-NET-3 (203.0.113.0/24, RFC 5737). */
export function awsKeyHomeAddress(accessKeyId: string): string {
  let hash = 0;
  for (const char of accessKeyId) hash = (hash * 31 + char.charCodeAt(0)) >>> 0;
  return `203.0.113.${(hash % 254) + 1}`;
}
