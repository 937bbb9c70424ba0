// GCP service-account key files: the JSON Google returns (base64) in `privateKeyData` — `"type":
// "service_account"`, the key's id (`private_key_id`, 40 hex), a PKCS#8 PEM RSA `private_key`, the account's email
// and numeric id, and the token endpoint to exchange a signed JWT at. Keys are RSA 2048 (`KEY_ALG_RSA_2048`).
import {
  createHash,
  createPrivateKey,
  generateKeyPair as generateKeyPairCallback,
  generateKeyPairSync,
  type KeyObject,
} from 'node:crypto';
import { promisify } from 'node:util';
import { type RandomSource, randomString } from '../../sandbox-seed.js';

const generateKeyPair = promisify(generateKeyPairCallback);
const HEX = '0123456789abcdef';

export const GCP_KEY_ID_PATTERN = /^[0-9a-f]{40}$/;

export interface GcpServiceAccountKeyFile {
  type: 'service_account';
  project_id: string;
  private_key_id: string;
  private_key: string;
  client_email: string;
  client_id: string;
  auth_uri: string;
  token_uri: string;
  auth_provider_x509_cert_url: string;
  client_x509_cert_url: string;
  universe_domain: string;
}

export function generateGcpKeyId(random: RandomSource): string {
  return randomString(HEX, 40, random);
}

/** A new RSA 2048 pair: the PKCS#8 PEM goes into the key file, the public key stays with the provider. */
export async function generateGcpKeyPair(): Promise<{ privateKeyPem: string; publicKey: KeyObject }> {
  const { privateKey, publicKey } = await generateKeyPair('rsa', { modulusLength: 2048 });
  return { privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), publicKey };
}

/** The same, synchronously: for the one key a sandbox mints for the adapter when it starts. */
export function generateGcpKeyPairSync(): { privateKeyPem: string; publicKey: KeyObject } {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), publicKey };
}

export function gcpKeyFile(input: {
  projectId: string;
  keyId: string;
  privateKeyPem: string;
  email: string;
  uniqueId: string;
  tokenUri: string;
}): GcpServiceAccountKeyFile {
  return {
    type: 'service_account',
    project_id: input.projectId,
    private_key_id: input.keyId,
    private_key: input.privateKeyPem,
    client_email: input.email,
    client_id: input.uniqueId,
    auth_uri: 'https://accounts.google.com/o/oauth2/auth',
    token_uri: input.tokenUri,
    auth_provider_x509_cert_url: 'https://www.googleapis.com/oauth2/v1/certs',
    client_x509_cert_url: `https://www.googleapis.com/robot/v1/metadata/x509/${encodeURIComponent(input.email)}`,
    universe_domain: 'googleapis.com',
  };
}

// --- Deterministic RSA for generated organisations -------------------------------------------------------------
// Node cannot seed its RSA key generation, and the organisation generator must give the same secrets on every
// machine. So a generated organisation's GCP key files share one RSA 2048 pair derived from the organisation's name:
// primes found by Miller-Rabin over a SHA-256 counter stream (about a second, once, on first use). Only generated
// organisations use it; keys the sandbox mints for the adapter come from Node's generator.

const SMALL_PRIMES = (() => {
  const primes: bigint[] = [];
  const sieve = new Uint8Array(20_000);
  for (let i = 2; i < sieve.length; i++) {
    if (sieve[i]) continue;
    primes.push(BigInt(i));
    for (let j = i * i; j < sieve.length; j += i) sieve[j] = 1;
  }
  return primes;
})();

function streamOf(seed: string): (bytes: number) => Buffer {
  let counter = 0;
  return (bytes) => {
    const chunks: Buffer[] = [];
    for (let have = 0; have < bytes; have += 32) {
      chunks.push(createHash('sha256').update(`${seed}:${counter++}`).digest());
    }
    return Buffer.concat(chunks).subarray(0, bytes);
  };
}

function modPow(base: bigint, exponent: bigint, modulus: bigint): bigint {
  let result = 1n;
  let b = base % modulus;
  for (let e = exponent; e > 0n; e >>= 1n) {
    if (e & 1n) result = (result * b) % modulus;
    b = (b * b) % modulus;
  }
  return result;
}

function isProbablePrime(n: bigint, next: (bytes: number) => Buffer): boolean {
  for (const p of SMALL_PRIMES) {
    if (n === p) return true;
    if (n % p === 0n) return false;
  }
  let d = n - 1n;
  let r = 0;
  while ((d & 1n) === 0n) {
    d >>= 1n;
    r++;
  }
  // 40 rounds: a composite passes with probability below 2^-80.
  for (let round = 0; round < 40; round++) {
    const a = 2n + (BigInt(`0x${next(128).toString('hex')}`) % (n - 3n));
    let x = modPow(a, d, n);
    if (x === 1n || x === n - 1n) continue;
    let composite = true;
    for (let i = 1; i < r; i++) {
      x = (x * x) % n;
      if (x === n - 1n) {
        composite = false;
        break;
      }
    }
    if (composite) return false;
  }
  return true;
}

function primeOf(bits: number, next: (bytes: number) => Buffer): bigint {
  for (;;) {
    // The top two bits set, so that the product of two such primes has exactly 2 * bits bits; odd.
    let candidate = BigInt(`0x${next(bits / 8).toString('hex')}`) | (3n << BigInt(bits - 2)) | 1n;
    for (let step = 0; step < 4096; step++, candidate += 2n) {
      if ((candidate - 1n) % 65537n !== 0n && isProbablePrime(candidate, next)) return candidate;
    }
  }
}

function modInverse(a: bigint, m: bigint): bigint {
  let [oldR, r] = [a % m, m];
  let [oldS, s] = [1n, 0n];
  while (r !== 0n) {
    const q = oldR / r;
    [oldR, r] = [r, oldR - q * r];
    [oldS, s] = [s, oldS - q * s];
  }
  return ((oldS % m) + m) % m;
}

function base64url(value: bigint): string {
  let hex = value.toString(16);
  if (hex.length % 2) hex = `0${hex}`;
  return Buffer.from(hex, 'hex').toString('base64url');
}

const derivedPairs = new Map<string, string>();

/** A PKCS#8 PEM RSA 2048 private key that is the same for the same seed on every machine. */
export function deterministicGcpPrivateKeyPem(seed: string): string {
  const cached = derivedPairs.get(seed);
  if (cached) return cached;
  const next = streamOf(`keyledger-gcp-rsa:${seed}`);
  const p = primeOf(1024, next);
  let q = primeOf(1024, next);
  while (q === p) q = primeOf(1024, next);
  const e = 65537n;
  const phi = (p - 1n) * (q - 1n);
  const d = modInverse(e, phi);
  const jwk = {
    kty: 'RSA',
    n: base64url(p * q),
    e: base64url(e),
    d: base64url(d),
    p: base64url(p),
    q: base64url(q),
    dp: base64url(d % (p - 1n)),
    dq: base64url(d % (q - 1n)),
    qi: base64url(modInverse(q, p)),
  };
  const pem = createPrivateKey({ key: jwk, format: 'jwk' }).export({ type: 'pkcs8', format: 'pem' }).toString();
  derivedPairs.set(seed, pem);
  return pem;
}
