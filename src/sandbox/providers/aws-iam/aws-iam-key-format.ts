// AWS access key formats: a long-term key id is `AKIA` + 16 characters of [A-Z2-7]; the secret is 40 characters
// of base64's alphabet. User ids are `AIDA` + the same alphabet.
import { type RandomSource, randomString } from '../../sandbox-seed.js';

const ID_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
const SECRET_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

export const AWS_ACCESS_KEY_ID_PATTERN = /^AKIA[A-Z2-7]{16}$/;

export function generateAwsAccessKey(random: RandomSource): { accessKeyId: string; secretAccessKey: string } {
  return {
    accessKeyId: `AKIA${randomString(ID_ALPHABET, 16, random)}`,
    secretAccessKey: randomString(SECRET_ALPHABET, 40, random),
  };
}

export function generateAwsUserId(random: RandomSource): string {
  return `AIDA${randomString(ID_ALPHABET, 17, random)}`;
}
