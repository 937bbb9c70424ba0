// The one place that maps errors to exit codes: 0 clean, 1 findings or violations, 2 usage, configuration or
// operational errors (the convention of linters and of gitleaks).
import { KeyledgerError } from '../errors/keyledger-error.js';

export const EXIT_OK = 0;
export const EXIT_VIOLATIONS = 1;
export const EXIT_ERROR = 2;

export function exitCodeFor(error: unknown): number {
  if (error instanceof KeyledgerError) {
    return EXIT_ERROR;
  }
  return EXIT_ERROR;
}

export function describeError(error: unknown): string {
  if (error instanceof KeyledgerError) return `${error.code}: ${error.message}`;
  if (error instanceof Error) return error.message;
  return String(error);
}
