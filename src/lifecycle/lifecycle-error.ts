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
      // `done`/`notDone`: the shape every multi-step command's error has (`--json`, src/cli/exit-codes.ts).
      details: {
        failedStep,
        rollback,
        done: undone.map((description) => `rolled back: ${description}`),
        notDone: stuck.map((step) => `NOT rolled back: ${step.description} (${step.error})`),
      },
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

/**
 * A revoke that stopped after its first external effect. It stays `pending` in the revocation journal
 * (src/lifecycle/revocation-journal.ts); the message and `details` say what was done, what was not, and how to
 * finish it.
 */
export class RevocationIncompleteError extends KeyledgerError {
  readonly done: string[];
  readonly notDone: string[];

  constructor(input: {
    keyId: string;
    revocationId: string;
    failedStep: string;
    cause: unknown;
    done: string[];
    notDone: string[];
    /** False when even the journal could not be written: the pending record may be behind. */
    recorded: boolean;
  }) {
    const reason = input.cause instanceof Error ? input.cause.message : String(input.cause);
    const finish = `run \`keyledger revoke ${input.keyId}\` again or \`keyledger revoke --resume\` to finish`;
    super(
      'E_REVOKE_INCOMPLETE',
      `revoke of ${input.keyId} stopped at "${input.failedStep}": ${reason}. Done: ${input.done.join('; ') || 'nothing'}. NOT done: ${input.notDone.join('; ')}. ${input.recorded ? `Recorded as pending (revocation ${input.revocationId}): ${finish}` : `The journal could not record this (${finish} once the operational store is back)`}.`,
      {
        category: 'external',
        details: {
          keyId: input.keyId,
          revocationId: input.revocationId,
          failedStep: input.failedStep,
          done: input.done,
          notDone: input.notDone,
        },
        cause: input.cause,
      },
    );
    this.done = input.done;
    this.notDone = input.notDone;
  }
}
