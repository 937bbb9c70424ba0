// Rotations the API started: planned in the request (so the caller gets the rotation id and a bad key is a 4xx),
// driven to their end in the background (waiting for consumers can take minutes). Shutdown aborts the waits and
// waits for each drive to give its lease back, so the next start (or the controller) resumes where it stood.
import type { KeyledgerApp } from '../../app/keyledger-app.js';
import type { RotationRow } from '../../lifecycle/rotation/rotation-journal.js';
import type { Logger } from '../../telemetry/logger.js';

export class BackgroundRotations {
  readonly #app: KeyledgerApp;
  readonly #logger: Logger;
  readonly #stop = new AbortController();
  readonly #running = new Set<Promise<void>>();

  constructor(app: KeyledgerApp, logger: Logger) {
    this.#app = app;
    this.#logger = logger;
  }

  /** Plans the rotation of `keyId` as `actor` and starts driving it; the rotation already open for it otherwise. */
  async start(keyId: string, actor: string): Promise<{ row: RotationRow; created: boolean }> {
    const { rotator } = this.#app.rotation({ actor });
    const planned = await rotator.plan(keyId, 'manual');
    const drive = rotator
      .drive(planned.row.rotation_id, { waitForRetries: true, signal: this.#stop.signal })
      .then((outcome) => {
        this.#logger.info({ keyId, rotationId: planned.row.rotation_id, status: outcome.status }, 'rotation ended');
      })
      .catch((error: unknown) => {
        this.#logger.error(
          { keyId, rotationId: planned.row.rotation_id, error: (error as Error).message },
          'rotation stopped with an error; the journal keeps it for the controller',
        );
      })
      .finally(() => this.#running.delete(drive));
    this.#running.add(drive);
    return planned;
  }

  get inFlight(): number {
    return this.#running.size;
  }

  /** Ends every wait and resolves when each drive has let go of its row. */
  async close(): Promise<void> {
    this.#stop.abort();
    await Promise.allSettled([...this.#running]);
  }
}
