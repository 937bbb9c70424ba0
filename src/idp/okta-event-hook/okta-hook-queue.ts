// The durable queue between Okta's delivery and the directory: a delivery's status events are written as rows
// (idp_hook_deliveries, keyed by the event's uuid, so a redelivery adds nothing) before Okta gets its answer, and
// processed after it, so the answer stays within Okta's 3 s whatever the departure listeners do. Rows left
// unprocessed by a crash are processed when the module starts again.
import type { Kysely } from 'kysely';
import type { OperationalSchema } from '../../db/operational-schema.js';
import type { DirectoryUpdates } from '../../directory/identity-source.js';
import type { Clock } from '../../runtime/clock.js';
import { OKTA_SOURCE, type OktaStatusEvent } from './okta-event-mapping.js';

export class OktaHookQueue {
  readonly #db: Kysely<OperationalSchema>;
  readonly #directory: DirectoryUpdates;
  readonly #clock: Clock;
  readonly #onError: (error: unknown) => void;
  #draining: Promise<void> = Promise.resolve();

  constructor(options: {
    db: Kysely<OperationalSchema>;
    directory: DirectoryUpdates;
    clock: Clock;
    onError: (error: unknown) => void;
  }) {
    this.#db = options.db;
    this.#directory = options.directory;
    this.#clock = options.clock;
    this.#onError = options.onError;
  }

  /** Writes the events; returns how many were new (the rest were delivered before). */
  async enqueue(events: OktaStatusEvent[]): Promise<number> {
    if (events.length === 0) return 0;
    const receivedAt = this.#clock().toISOString();
    const result = await this.#db
      .insertInto('idp_hook_deliveries')
      .values(
        events.map((event) => ({
          event_id: event.eventId,
          source: OKTA_SOURCE,
          event_type: event.eventType,
          email: event.email,
          status: event.status,
          at: event.at,
          external_id: event.externalId || null,
          received_at: receivedAt,
          processed_at: null,
        })),
      )
      .onConflict((conflict) => conflict.column('event_id').doNothing())
      .executeTakeFirst();
    return Number(result.numInsertedOrUpdatedRows ?? 0);
  }

  /** Processes what is queued, one drain at a time; resolves when the queue was empty. */
  drain(): Promise<void> {
    this.#draining = this.#draining.then(() => this.#drainOnce()).catch(this.#onError);
    return this.#draining;
  }

  /** Resolves when the drains started so far have finished; starts none. */
  idle(): Promise<void> {
    return this.#draining;
  }

  async pending(): Promise<number> {
    const row = await this.#db
      .selectFrom('idp_hook_deliveries')
      .select((eb) => eb.fn.countAll<number>().as('count'))
      .where('processed_at', 'is', null)
      .executeTakeFirst();
    return Number(row?.count ?? 0);
  }

  async #drainOnce(): Promise<void> {
    const rows = await this.#db
      .selectFrom('idp_hook_deliveries')
      .selectAll()
      .where('processed_at', 'is', null)
      .orderBy('at')
      .orderBy('event_id')
      .execute();
    for (const row of rows) {
      await this.#directory.apply(
        {
          signalId: `${OKTA_SOURCE}:${row.event_id}`,
          source: OKTA_SOURCE,
          email: row.email,
          status: row.status as OktaStatusEvent['status'],
          at: row.at,
        },
        row.external_id ? { externalId: row.external_id } : {},
      );
      await this.#db
        .updateTable('idp_hook_deliveries')
        .set({ processed_at: this.#clock().toISOString() })
        .where('event_id', '=', row.event_id)
        .execute();
    }
  }
}
