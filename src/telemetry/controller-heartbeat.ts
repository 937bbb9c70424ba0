// The rotation controller's liveness, for `keyledger_controller_heartbeat_timestamp_seconds` and the
// KeyledgerControllerDown alert (deploy/prometheus/alert-rules.yaml). The process that runs the controller beats
// it on an interval while `runForever` is pending (src/lifecycle/rotation/rotation-controller.ts runs only at its
// cron times, too rarely to tell a dead loop from a quiet one), and hands the same instance to the metrics module.
import type { Clock } from '../runtime/clock.js';

export class ControllerHeartbeat {
  #last: Date | undefined;

  beat(at: Date): void {
    this.#last = at;
  }

  last(): Date | undefined {
    return this.#last;
  }

  /** Beats now and every `everyMs` until `signal` aborts (or `running` settles); the timer keeps no process alive. */
  keepAlive(clock: Clock, options: { signal: AbortSignal; everyMs?: number; running?: Promise<unknown> }): void {
    this.beat(clock());
    const timer = setInterval(() => this.beat(clock()), options.everyMs ?? 30_000);
    timer.unref();
    const stop = () => clearInterval(timer);
    options.signal.addEventListener('abort', stop, { once: true });
    options.running?.then(stop, stop);
  }
}
