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

/** What a failed multi-step command had done, and what it had not, when the error says (docs/cli.md). */
export interface ErrorProgress {
  done: string[];
  notDone: string[];
}

/**
 * The error as `--json` prints it on stdout: `{ "error": { code, message, category, done, notDone, details? } }`.
 * `done` and `notDone` are empty for errors raised before anything was changed.
 */
export function errorJson(error: unknown): { error: Record<string, unknown> } {
  if (error instanceof KeyledgerError) {
    const { done, notDone, ...details } = error.details ?? {};
    return {
      error: {
        code: error.code,
        message: error.message,
        category: error.category,
        done: stringList(done),
        notDone: stringList(notDone),
        ...(error.position ? { position: error.position } : {}),
        ...(Object.keys(details).length > 0 ? { details } : {}),
      },
    };
  }
  return {
    error: {
      code: 'E_INTERNAL',
      message: error instanceof Error ? error.message : String(error),
      category: 'internal',
      done: [],
      notDone: [],
    },
  };
}

function stringList(value: unknown): string[] {
  return Array.isArray(value) ? value.map(String) : [];
}
