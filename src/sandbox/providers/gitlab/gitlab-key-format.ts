// GitLab's token format: `glpat-` and 20 characters of [0-9A-Za-z_-] (the classic form; newer instances append
// a routing part, which scanners accept as a longer tail).
import { type RandomSource, randomString } from '../../sandbox-seed.js';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-';

export const GITLAB_TOKEN_PATTERN = /^glpat-[0-9A-Za-z_-]{20}$/;

export function generateGitlabToken(random: RandomSource): string {
  return `glpat-${randomString(ALPHABET, 20, random)}`;
}
