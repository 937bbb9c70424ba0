// Errors as RFC 9457 problem details (`application/problem+json`): the one place the server maps a KeyledgerError's
// category to an HTTP status, as src/cli/exit-codes.ts does for exit codes. The stable code travels in `code`
// and in the `type` URI, so a client branches on it and never on the wording. Messages never hold key material
// (src/errors/keyledger-error.ts); an unexpected error's message is not echoed (it may come from a library).
import { type ErrorCategory, KeyledgerError } from '../errors/keyledger-error.js';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';
export const PROBLEM_TYPE_BASE = 'urn:keyledger:problem:';

export interface ProblemDetails {
  type: string;
  title: string;
  status: number;
  detail: string;
  /** The stable error code (`E_KEY_NOT_FOUND`). */
  code: string;
  instance?: string;
  /** What a failed multi-step write had done and not done, when the error says; field errors of a bad body. */
  details?: Record<string, unknown>;
}

const STATUS_BY_CATEGORY: Record<ErrorCategory, number> = {
  usage: 400,
  input: 400,
  config: 500,
  conflict: 409,
  'not-found': 404,
  external: 502,
  internal: 500,
};

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  409: 'Conflict',
  412: 'Precondition Failed',
  415: 'Unsupported Media Type',
  428: 'Precondition Required',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
};

/** An error the HTTP layer raises itself, with the status it means. */
export class HttpProblem extends KeyledgerError {
  readonly status: number;

  constructor(status: number, code: string, message: string, details?: Record<string, unknown>) {
    super(code, message, { category: status >= 500 ? 'internal' : 'input', ...(details ? { details } : {}) });
    this.status = status;
  }
}

export function statusOf(error: unknown): number {
  if (error instanceof HttpProblem) return error.status;
  if (error instanceof KeyledgerError) return STATUS_BY_CATEGORY[error.category];
  const status = (error as { statusCode?: unknown }).statusCode;
  return typeof status === 'number' && status >= 400 && status < 600 ? status : 500;
}

export function problemFor(error: unknown, instance?: string): ProblemDetails {
  const status = statusOf(error);
  const title = TITLES[status] ?? 'Error';
  if (error instanceof KeyledgerError) {
    return {
      type: `${PROBLEM_TYPE_BASE}${error.code}`,
      title,
      status,
      detail: error.message,
      code: error.code,
      ...(instance ? { instance } : {}),
      ...(error.details ? { details: error.details } : {}),
    };
  }
  // Fastify's own client errors (a body that is not JSON, a body too large) say what is wrong and nothing secret.
  const fastifyCode = (error as { code?: unknown }).code;
  const clientError = status < 500 && typeof fastifyCode === 'string' && fastifyCode.startsWith('FST_');
  const code = clientError ? 'E_BAD_REQUEST' : 'E_INTERNAL';
  return {
    type: `${PROBLEM_TYPE_BASE}${code}`,
    title,
    status,
    detail: clientError ? (error as Error).message : 'an unexpected error; the server log has its id',
    code,
    ...(instance ? { instance } : {}),
  };
}
