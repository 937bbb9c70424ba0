// Typed errors with a stable code. The CLI maps them to exit codes (cli/exit-codes.ts) and the server to HTTP
// statuses, each in one place. A message must be actionable and must never contain key material.

/** Where in a file a problem sits. Lines and columns are 1-based. */
export interface SourcePosition {
  file: string;
  line?: number;
  column?: number;
  /** The field path inside the document, e.g. `scope.permissions[1]`. */
  field?: string;
}

export type ErrorCategory = 'usage' | 'config' | 'input' | 'conflict' | 'not-found' | 'external' | 'internal';

export class KeyledgerError extends Error {
  readonly code: string;
  readonly category: ErrorCategory;
  readonly position?: SourcePosition;
  readonly details?: Record<string, unknown>;

  constructor(
    code: string,
    message: string,
    options: {
      category?: ErrorCategory;
      position?: SourcePosition;
      details?: Record<string, unknown>;
      cause?: unknown;
    } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.category = options.category ?? 'internal';
    if (options.position) this.position = options.position;
    if (options.details) this.details = options.details;
  }

  toJSON(): Record<string, unknown> {
    return {
      code: this.code,
      message: this.message,
      ...(this.position ? { position: this.position } : {}),
      ...(this.details ? { details: this.details } : {}),
    };
  }
}

/** Bad command-line usage: unknown flag values, missing arguments. */
export class UsageError extends KeyledgerError {
  constructor(message: string, details?: Record<string, unknown>) {
    super('E_USAGE', message, { category: 'usage', ...(details ? { details } : {}) });
  }
}

/** A configuration file or environment variable is missing or wrong. */
export class ConfigError extends KeyledgerError {
  constructor(message: string, options: { position?: SourcePosition; cause?: unknown; code?: string } = {}) {
    super(options.code ?? 'E_CONFIG', message, { category: 'config', ...options });
  }
}

/** Something asked for does not exist (a key id, a path, a revision). */
export class NotFoundError extends KeyledgerError {
  constructor(code: string, message: string, details?: Record<string, unknown>) {
    super(code, message, { category: 'not-found', ...(details ? { details } : {}) });
  }
}

/** Formats a position as `file:line:column` for human output. */
export function formatPosition(position: SourcePosition): string {
  let text = position.file;
  if (position.line !== undefined) text += `:${position.line}`;
  if (position.line !== undefined && position.column !== undefined) text += `:${position.column}`;
  return text;
}
