// GCP service-account key files: the JSON Google returns (base64) in `privateKeyData` — `"type":
// "service_account"`, the key's id (`private_key_id`, 40 hex), a PKCS#8 PEM RSA `private_key`, the account's email
// and numeric id, and the token endpoint to exchange a signed JWT at. Keys are RSA 2048 (`KEY_ALG_RSA_2048`).
import { generateKeyPair as generateKeyPairCallback, generateKeyPairSync, type KeyObject } from 'node:crypto';
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
