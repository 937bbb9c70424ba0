// Errors of the lifecycle services. An issuance that failed after minting says exactly what it undid, and what it
// could not undo (with what to do by hand), so an operator never has to guess what state a key is in.
import { KeyledgerError } from '../errors/keyledger-error.js';

export interface RollbackStep {
  step: 'provider-key' | 'secret-store' | 'registry-entry';
  /** What was undone, or what could not be. */
  description: string;
  ok: boolean;
  /** Why undoing it failed, when it did. */
  error?: string;
}

export class IssuanceFailedError extends KeyledgerError {
  readonly failedStep: string;
  readonly rollback: RollbackStep[];

  constructor(failedStep: string, cause: unknown, rollback: RollbackStep[]) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    const undone = rollback.filter((step) => step.ok).map((step) => step.description);
    const stuck = rollback.filter((step) => !step.ok);
    let message = `issuance failed at "${failedStep}": ${reason}.`;
    message += undone.length ? ` Rolled back: ${undone.join('; ')}.` : ' Nothing had been created yet.';
    if (stuck.length) {
      message += ` NOT rolled back (clean up by hand): ${stuck.map((step) => `${step.description} (${step.error})`).join('; ')}.`;
    }
    super(stuck.length ? 'E_ISSUE_ROLLBACK_INCOMPLETE' : 'E_ISSUE_FAILED', message, {
      category: 'external',
      details: { failedStep, rollback },
      cause,
    });
    this.failedStep = failedStep;
    this.rollback = rollback;
  }
}

export class IdempotencyConflictError extends KeyledgerError {
  constructor(message: string) {
    super('E_IDEMPOTENCY_CONFLICT', message, { category: 'conflict' });
  }
}
