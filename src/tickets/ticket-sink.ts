// The interface every ticketing system that receives rotation tickets implements (docs/rotation.md): keys whose
// provider has no issuance API (Stripe, Slack) are rotated by a person, from a ticket. Implementations live in
// tickets/<name>/ and are registered in ticket-sink-table.ts; the core imports this file only.

/** A ticket to open, rendered from the template in rotation-ticket.ts. No secret in it, ever. */
export interface RotationTicket {
  /** One ticket per due key: the key id and the rotation it asks for. Written into the ticket to find it again. */
  dedupeKey: string;
  keyId: string;
  title: string;
  /** Markdown: the template's fields and its five checklist steps. */
  body: string;
  ownerTeam: string;
  ownerIndividual?: string;
  dueAt: Date;
  labels: string[];
}

/** Where a ticket lives in its system. */
export interface TicketRef {
  /** The system's id: an issue number, a Jira key, a file name. */
  id: string;
  url?: string;
}

export interface TicketSink {
  /** The sink's kind as configured: `markdown`, `github`, `jira`. */
  readonly kind: string;
  /** Finds an open ticket carrying this dedupe key (to recover from a crash between opening and recording it). */
  findOpen(dedupeKey: string): Promise<TicketRef | undefined>;
  /** Opens a ticket. */
  open(ticket: RotationTicket): Promise<TicketRef>;
  /** Closes a ticket with a closing comment (the registry shows the rotation). */
  close(ref: TicketRef, comment: string): Promise<void>;
  /** Escalates an overdue ticket to the owning team (a comment naming them, an `escalated` label). */
  escalate(ref: TicketRef, team: string, comment: string): Promise<void>;
}
