// Verifies AWS Signature Version 4 on an incoming request the way AWS does: rebuild the canonical request from
// the headers the client says it signed, derive the signing key from the secret of the access key named in the
// credential scope, and compare signatures in constant time. The SDK signs; the sandbox checks.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { SandboxRequest } from '../../sandbox-server.js';

export interface SigV4Credential {
  accessKeyId: string;
  date: string;
  region: string;
  service: string;
}

export type SigV4Outcome =
  | { ok: true; credential: SigV4Credential }
  | {
      ok: false;
      code: 'MissingAuthenticationToken' | 'IncompleteSignature' | 'InvalidClientTokenId' | 'SignatureDoesNotMatch';
      credential?: SigV4Credential;
    };

const AUTH_PATTERN = /^AWS4-HMAC-SHA256\s+Credential=([^,\s]+),\s*SignedHeaders=([^,\s]+),\s*Signature=([0-9a-f]{64})$/;

/** Reads the credential named in the Authorization header without checking anything. */
export function parseSigV4Credential(request: SandboxRequest): SigV4Credential | undefined {
  const header = request.headers.authorization;
  const match = header ? AUTH_PATTERN.exec(header.trim()) : null;
  if (!match) return undefined;
  const [accessKeyId, date, region, service, terminal] = match[1]!.split('/');
  if (!accessKeyId || !date || !region || !service || terminal !== 'aws4_request') return undefined;
  return { accessKeyId, date, region, service };
}

/** Checks the request's signature; `secretFor` returns the secret of an access key id, or undefined if unknown. */
export function verifySigV4(
  request: SandboxRequest,
  secretFor: (accessKeyId: string) => string | undefined,
): SigV4Outcome {
  const header = request.headers.authorization;
  if (!header) return { ok: false, code: 'MissingAuthenticationToken' };
  const match = AUTH_PATTERN.exec(header.trim());
  const credential = parseSigV4Credential(request);
  if (!match || !credential) return { ok: false, code: 'IncompleteSignature' };
  const amzDate = headerValue(request, 'x-amz-date');
  if (!amzDate) return { ok: false, code: 'IncompleteSignature', credential };
  const secret = secretFor(credential.accessKeyId);
  if (secret === undefined) return { ok: false, code: 'InvalidClientTokenId', credential };
  const signedHeaders = match[2]!.split(';');
  const canonicalHeaders = signedHeaders
    .map((name) => `${name}:${(headerValue(request, name) ?? '').trim().replace(/\s+/g, ' ')}\n`)
    .join('');
  const payloadHash = headerValue(request, 'x-amz-content-sha256') ?? sha256Hex(request.body);
  const canonicalRequest = [
    request.method,
    canonicalUri(request.path),
    canonicalQuery(request.query),
    canonicalHeaders,
    signedHeaders.join(';'),
    payloadHash,
  ].join('\n');
  const scope = `${credential.date}/${credential.region}/${credential.service}/aws4_request`;
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256Hex(canonicalRequest)].join('\n');
  let key: Buffer = hmac(`AWS4${secret}`, credential.date);
  for (const part of [credential.region, credential.service, 'aws4_request']) key = hmac(key, part);
  const expected = Buffer.from(createHmac('sha256', key).update(stringToSign, 'utf8').digest('hex'));
  const given = Buffer.from(match[3]!);
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) {
    return { ok: false, code: 'SignatureDoesNotMatch', credential };
  }
  return { ok: true, credential };
}

function headerValue(request: SandboxRequest, name: string): string | undefined {
  const value = request.headers[name.toLowerCase()];
  return Array.isArray(value) ? value.join(',') : value;
}

function hmac(key: string | Buffer, data: string): Buffer {
  return createHmac('sha256', key).update(data, 'utf8').digest();
}

function sha256Hex(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** RFC 3986 encoding as SigV4 wants it: encodeURIComponent plus the characters it leaves alone. */
function uriEncode(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function canonicalUri(path: string): string {
  return (
    path
      .split('/')
      .map((segment) => uriEncode(decodeURIComponent(segment)))
      .join('/') || '/'
  );
}

function canonicalQuery(query: URLSearchParams): string {
  const pairs: [string, string][] = [];
  for (const [name, value] of query) pairs.push([uriEncode(name), uriEncode(value)]);
  pairs.sort(([a, av], [b, bv]) => (a < b ? -1 : a > b ? 1 : av < bv ? -1 : av > bv ? 1 : 0));
  return pairs.map(([name, value]) => `${name}=${value}`).join('&');
}
