// Errors of the rotation controller, with stable codes. A RotationStepError says whether waiting and trying the
// same step again can help (a 429, a store that is down) or whether the rotation must roll back.
import { KeyledgerError } from '../../errors/keyledger-error.js';

export class RotationError extends KeyledgerError {
  constructor(
    code: string,
    message: string,
    options: {
      details?: Record<string, unknown>;
      cause?: unknown;
      category?: 'input' | 'conflict' | 'external' | 'not-found';
    } = {},
  ) {
    super(code, message, { category: options.category ?? 'external', ...options });
  }
}

/** What a failed step means for the rotation. */
export type StepFailureKind = 'transient' | 'rollback' | 'fatal';

export class RotationStepError extends KeyledgerError {
  readonly kind: StepFailureKind;
  /** A short, stable reason for metrics labels: `verification_failed`, `consumers_not_confirmed`... */
  readonly reason: string;

  constructor(kind: StepFailureKind, reason: string, message: string, cause?: unknown) {
    super(`E_ROTATION_${reason.toUpperCase()}`, message, { category: 'external', details: { reason, kind }, cause });
    this.kind = kind;
    this.reason = reason;
  }
}
