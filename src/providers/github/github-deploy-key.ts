// Deploy keys are SSH keys: the adapter mints an Ed25519 pair locally, sends GitHub the public half and hands
// the private half (OpenSSH format, what `git` over SSH reads) to the secret store. Also derives the public key
// back from a private one, which is how a deploy key is verified and matched.
import { createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto';

const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const OPENSSH_MAGIC = Buffer.from('openssh-key-v1\0', 'latin1');
const KEY_TYPE = 'ssh-ed25519';

export interface DeployKeyPair {
  /** `ssh-ed25519 AAAA... <comment>`, as GitHub's `key` field takes it. */
  publicKey: string;
  /** `-----BEGIN OPENSSH PRIVATE KEY-----` text. */
  privateKey: string;
}

function sshString(data: Buffer | string): Buffer {
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  const length = Buffer.alloc(4);
  length.writeUInt32BE(bytes.length);
  return Buffer.concat([length, bytes]);
}

function publicBlob(publicKey: Buffer): Buffer {
  return Buffer.concat([sshString(KEY_TYPE), sshString(publicKey)]);
}

/** The 32-byte seed and public key of a fresh Ed25519 pair, or of the pair a given seed determines. */
function ed25519Pair(seed?: Buffer): { seed: Buffer; publicKey: Buffer } {
  if (!seed) {
    // generateKeyPairSync is an order of magnitude faster than importing a seed; the JWK form exposes both halves.
    const jwk = generateKeyPairSync('ed25519').privateKey.export({ format: 'jwk' });
    return { seed: Buffer.from(jwk.d!, 'base64url'), publicKey: Buffer.from(jwk.x!, 'base64url') };
  }
  const privateKey = createPrivateKey({
    key: Buffer.concat([PKCS8_ED25519_PREFIX, seed]),
    format: 'der',
    type: 'pkcs8',
  });
  const jwk = createPublicKey(privateKey).export({ format: 'jwk' });
  return { seed, publicKey: Buffer.from(jwk.x!, 'base64url') };
}

/** A deploy key: random by default; from 32 seed bytes when a seeded generator wants it reproducible. */
export function generateDeployKey(comment: string, seedBytes?: Buffer): DeployKeyPair {
  const { seed, publicKey: raw } = ed25519Pair(seedBytes);
  const blob = publicBlob(raw);
  const check = Buffer.alloc(4);
  check.writeUInt32BE(seed.readUInt32BE(0));
  let section = Buffer.concat([
    check,
    check,
    sshString(KEY_TYPE),
    sshString(raw),
    sshString(Buffer.concat([seed, raw])),
    sshString(comment),
  ]);
  const padding: number[] = [];
  for (let i = 1; (section.length + padding.length) % 8 !== 0; i++) padding.push(i);
  section = Buffer.concat([section, Buffer.from(padding)]);
  const body = Buffer.concat([
    OPENSSH_MAGIC,
    sshString('none'),
    sshString('none'),
    sshString(''),
    Buffer.from([0, 0, 0, 1]),
    sshString(blob),
    sshString(section),
  ]);
  const lines = body.toString('base64').match(/.{1,70}/g) ?? [];
  return {
    publicKey: `${KEY_TYPE} ${blob.toString('base64')} ${comment}`.trim(),
    privateKey: `-----BEGIN OPENSSH PRIVATE KEY-----\n${lines.join('\n')}\n-----END OPENSSH PRIVATE KEY-----\n`,
  };
}

/** True when the text is an OpenSSH private key (so verify treats it as a deploy key, not a token). */
export function isOpenSshPrivateKey(text: string): boolean {
  return text.trimStart().startsWith('-----BEGIN OPENSSH PRIVATE KEY-----');
}

/** The `ssh-ed25519 AAAA...` public key (without comment) inside an OpenSSH private key, or undefined. */
export function publicKeyOfPrivateKey(text: string): string | undefined {
  const base64 = text.replace(/-----[^-]+-----/g, '').replace(/\s+/g, '');
  const body = Buffer.from(base64, 'base64');
  if (!body.subarray(0, OPENSSH_MAGIC.length).equals(OPENSSH_MAGIC)) return undefined;
  let offset = OPENSSH_MAGIC.length;
  const read = (): Buffer => {
    const length = body.readUInt32BE(offset);
    const value = body.subarray(offset + 4, offset + 4 + length);
    offset += 4 + length;
    return value;
  };
  try {
    read(); // cipher
    read(); // kdf
    read(); // kdf options
    offset += 4; // number of keys
    const blob = read();
    const type = blob.subarray(4, 4 + blob.readUInt32BE(0)).toString('utf8');
    return `${type} ${blob.toString('base64')}`;
  } catch {
    return undefined;
  }
}

/** The key material of an `ssh-ed25519 AAAA... comment` line, without the comment, for comparisons. */
export function normalisePublicKey(line: string): string {
  const [type, data] = line.trim().split(/\s+/);
  return `${type ?? ''} ${data ?? ''}`;
}
