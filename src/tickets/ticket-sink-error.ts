// Errors of ticket sinks: the system's status and message, never its token.
import { KeyledgerError } from '../errors/keyledger-error.js';

export class TicketSinkError extends KeyledgerError {
  readonly sink: string;
  readonly status?: number;

  constructor(sink: string, message: string, status?: number) {
    super('E_TICKET_SINK', `${sink}: ${message}`, {
      category: 'external',
      details: { sink, ...(status !== undefined ? { status } : {}) },
    });
    this.sink = sink;
    if (status !== undefined) this.status = status;
  }
}
