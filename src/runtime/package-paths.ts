// Where this package's own files are (the bundled example registry), from the compiled build or the sources alike.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The package root: two levels above this module (src/runtime or dist/runtime). */
export function packageRoot(): string {
  return join(dirname(fileURLToPath(import.meta.url)), '..', '..');
}

export function exampleRegistryDir(): string {
  return join(packageRoot(), 'examples', 'registry');
}
