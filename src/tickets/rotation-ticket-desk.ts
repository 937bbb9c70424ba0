// Keeps one open rotation ticket per due key: opened once (a re-run finds the ticket it opened, even across a crash
// between opening it and recording it), closed when the registry shows the rotation, escalated to the owning
// team once it is overdue. The ledger is the operational store's `rotation_tickets` table. A rotation whose rollback
// cannot finish (key-rotator.ts, `stuck`) gets a ticket of its own, closed when the rollback finishes.
import type { Kysely } from 'kysely';
import type { OperationalSchema } from '../db/operational-schema.js';
import type { EventLog } from '../events/event-log.js';
import type { KeyEntry } from '../registry/key-entry-schema.js';
import type { LoadedEntry } from '../registry/registry-loader.js';
import type { Clock } from '../runtime/clock.js';
import {
  renderRotationTicket,
  renderStuckRotationTicket,
  rotationDedupeKey,
  STUCK_TICKET_PREFIX,
  type StuckRotation,
  stuckRotationDedupeKey,
} from './rotation-ticket.js';
import type { RotationTicket, TicketSink } from './ticket-sink.js';

export interface RotationTicketDeskOptions {
  db: Kysely<OperationalSchema>;
  sink: TicketSink;
  clock: Clock;
  events?: EventLog;
  /** Days past the due date after which an open ticket escalates to the owning team (default 7). */
  escalateAfterDays?: number;
  onOpened?: (sink: string) => void;
}

export interface TicketSweep {
  closed: string[];
  escalated: string[];
}

export class RotationTicketDesk {
  readonly #options: RotationTicketDeskOptions;

  constructor(options: RotationTicketDeskOptions) {
    this.#options = options;
  }

  get sink(): TicketSink {
    return this.#options.sink;
  }

  /** Opens the ticket of a due key, or returns the one already open for it. */
  async ensureTicket(due: {
    entry: KeyEntry;
    dueAt: Date;
    reason?: string;
  }): Promise<{ created: boolean; id: string; url?: string }> {
    return this.#ensure(rotationDedupeKey(due.entry), due.entry.key_id, due.dueAt, 'rotation.ticket_opened', () =>
      renderRotationTicket(due.entry, due.dueAt, due.reason),
    );
  }

  /** Opens (once) the ticket asking the key's owner to look at a rotation whose rollback cannot finish. */
  async ensureStuckRotationTicket(stuck: StuckRotation): Promise<{ created: boolean; id: string; url?: string }> {
    return this.#ensure(
      stuckRotationDedupeKey(stuck.rotationId),
      stuck.keyId,
      stuck.since,
      'rotation.stuck_ticket_opened',
      () => renderStuckRotationTicket(stuck),
    );
  }

  /** Closes the stuck-rotation ticket of `rotationId`, when there is one open. */
  async closeStuckRotationTicket(rotationId: string, comment: string): Promise<boolean> {
    const { db, sink, clock } = this.#options;
    const dedupeKey = stuckRotationDedupeKey(rotationId);
    const row = await db
      .selectFrom('rotation_tickets')
      .selectAll()
      .where('dedupe_key', '=', dedupeKey)
      .where('state', '=', 'open')
      .executeTakeFirst();
    if (!row) return false;
    await sink.close({ id: row.external_id ?? '', ...(row.url ? { url: row.url } : {}) }, comment);
    await db
      .updateTable('rotation_tickets')
      .set({ state: 'closed', updated_at: clock().toISOString() })
      .where('dedupe_key', '=', dedupeKey)
      .execute();
    return true;
  }

  async #ensure(
    dedupeKey: string,
    keyId: string,
    dueAt: Date,
    eventType: string,
    render: () => RotationTicket,
  ): Promise<{ created: boolean; id: string; url?: string }> {
    const { db, sink, clock } = this.#options;
    const existing = await db
      .selectFrom('rotation_tickets')
      .selectAll()
      .where('dedupe_key', '=', dedupeKey)
      .executeTakeFirst();
    if (existing?.state === 'open' || existing?.state === 'closed') {
      return { created: false, id: existing.external_id ?? '', ...(existing.url ? { url: existing.url } : {}) };
    }
    const now = clock().toISOString();
    if (!existing) {
      // Intent first: a crash after the sink answered leaves an `opening` row, and the next run searches the sink.
      await db
        .insertInto('rotation_tickets')
        .values({
          dedupe_key: dedupeKey,
          key_id: keyId,
          sink: sink.kind,
          state: 'opening',
          external_id: null,
          url: null,
          due_at: dueAt.toISOString(),
          escalated_at: null,
          created_at: now,
          updated_at: now,
        })
        .onConflict((conflict) => conflict.column('dedupe_key').doNothing())
        .execute();
    }
    const found = await sink.findOpen(dedupeKey);
    const ref = found ?? (await sink.open(render()));
    await db
      .updateTable('rotation_tickets')
      .set({ state: 'open', external_id: ref.id, url: ref.url ?? null, updated_at: clock().toISOString() })
      .where('dedupe_key', '=', dedupeKey)
      .execute();
    if (!found) {
      this.#options.onOpened?.(sink.kind);
      await this.#options.events
        ?.append({
          type: eventType,
          actor: 'system:rotation-controller',
          keyId,
          data: { sink: sink.kind, ticket: ref.id, due_at: dueAt.toISOString() },
        })
        .catch(() => undefined);
    }
    return { created: !found, id: ref.id, ...(ref.url ? { url: ref.url } : {}) };
  }

  /** Closes tickets whose key the registry shows rotated, and escalates the overdue ones (each once). */
  async sweep(entries: readonly LoadedEntry[]): Promise<TicketSweep> {
    const { db, sink, clock } = this.#options;
    const byKey = new Map(entries.map(({ entry }) => [entry.key_id, entry]));
    const open = await db
      .selectFrom('rotation_tickets')
      .selectAll()
      .where('state', '=', 'open')
      .where('sink', '=', sink.kind)
      // Stuck-rotation tickets are closed by the rotation that finishes (closeStuckRotationTicket), not by due dates.
      .where('dedupe_key', 'not like', `${STUCK_TICKET_PREFIX}%`)
      .execute();
    const result: TicketSweep = { closed: [], escalated: [] };
    const now = clock();
    for (const row of open) {
      const entry = byKey.get(row.key_id);
      const ref = { id: row.external_id ?? '', ...(row.url ? { url: row.url } : {}) };
      if (
        !entry ||
        rotationDedupeKey(entry) !== row.dedupe_key ||
        entry.status === 'revoked' ||
        entry.status === 'retired'
      ) {
        const why = !entry
          ? 'the key left the registry'
          : entry.status === 'revoked' || entry.status === 'retired'
            ? `the key is ${entry.status}`
            : `the registry shows it rotated (last_rotated ${entry.last_rotated})`;
        await sink.close(ref, `Closed by keyledger: ${why}.`);
        await db
          .updateTable('rotation_tickets')
          .set({ state: 'closed', updated_at: now.toISOString() })
          .where('dedupe_key', '=', row.dedupe_key)
          .execute();
        result.closed.push(row.key_id);
        continue;
      }
      const overdueAt = Date.parse(row.due_at) + (this.#options.escalateAfterDays ?? 7) * 86_400_000;
      if (!row.escalated_at && now.getTime() >= overdueAt) {
        const team = entry.owner_team ?? 'unowned';
        await sink.escalate(
          ref,
          team,
          `rotation of ${row.key_id} was due ${row.due_at.slice(0, 10)} and is overdue; the owning team ${team} is asked to finish it.`,
        );
        await db
          .updateTable('rotation_tickets')
          .set({ escalated_at: now.toISOString(), updated_at: now.toISOString() })
          .where('dedupe_key', '=', row.dedupe_key)
          .execute();
        result.escalated.push(row.key_id);
      }
    }
    return result;
  }
}
