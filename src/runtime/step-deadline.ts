// The deadline of the step a caller is inside: a lease holder (src/lifecycle/rotation/key-rotator.ts) runs each
// external effect under an AbortSignal that fires before its lease could lapse, and the provider HTTP client
// (src/providers/http/provider-http-client.ts) aborts its request on it — without every adapter's signature
// carrying a signal. Outside such a step there is no deadline.
import { AsyncLocalStorage } from 'node:async_hooks';

const deadlines = new AsyncLocalStorage<AbortSignal>();

/** Runs `work` with `signal` as the deadline every call inside it (however deep) can read. */
export function withStepDeadline<T>(signal: AbortSignal, work: () => Promise<T>): Promise<T> {
  return deadlines.run(signal, work);
}

/** The deadline of the step this call runs in, if any. */
export function currentStepDeadline(): AbortSignal | undefined {
  return deadlines.getStore();
}
