// The one rule for secret paths, shared by every store so that a path valid in one is valid in all: Vault takes
// it as a KV path, Secrets Manager as a secret name (whose alphabet is the narrowest of the three).
import { SecretStoreError } from './secret-store-error.js';

const SEGMENT = /^[A-Za-z0-9_+=.@-]+$/;
const MAX_PATH_LENGTH = 512;

/** Throws E_SECRET_PATH unless `path` is slash-separated segments of `A-Z a-z 0-9 _ + = . @ -`, no `.`/`..`. */
export function assertSecretPath(store: string, path: string): void {
  const problem = secretPathProblem(path);
  if (problem)
    throw new SecretStoreError('E_SECRET_PATH', store, `invalid secret path ${JSON.stringify(path)}: ${problem}`);
}

export function secretPathProblem(path: string): string | undefined {
  if (typeof path !== 'string' || path.length === 0) return 'the path is empty';
  if (path.length > MAX_PATH_LENGTH) return `the path is longer than ${MAX_PATH_LENGTH} characters`;
  for (const segment of path.split('/')) {
    if (segment === '') return 'the path has an empty segment (a leading, trailing or doubled slash)';
    if (segment === '.' || segment === '..') return 'the path has a `.` or `..` segment';
    if (!SEGMENT.test(segment)) return 'segments may hold only letters, digits and _ + = . @ -';
  }
  return undefined;
}
