// Opens the event log as keyledger's services use it: HMAC'd under the chain key from the data folder (or
// KEYLEDGER_EVENT_CHAIN_KEY), anchored now and then on the registry repository's `refs/keyledger/anchors`.
// The composition root (src/app/keyledger-app.ts) and commands that append outside it call this.
import { join } from 'node:path';
import type { Kysely } from 'kysely';
import type { OperationalSchema } from '../db/operational-schema.js';
import type { Clock } from '../runtime/clock.js';
import type { Logger } from '../telemetry/logger.js';
import { anchorPolicyFromEnv, EventAnchorer } from './event-anchors.js';
import { EVENT_CHAIN_KEY_FILE_NAME, type EventChainKey, loadEventChainKey } from './event-chain-key.js';
import { EventLog } from './event-log.js';

export interface KeyedEventLog {
  events: EventLog;
  /** Null only with `createKey: false` where there is no key yet: the log then writes (and reads) no keyed row. */
  chainKey: EventChainKey | null;
  /** Null when no registry repository was given: nothing is anchored automatically. */
  anchorer: EventAnchorer | null;
}

/** The chain key file of a data folder. */
export function eventChainKeyFile(dataDir: string): string {
  return join(dataDir, EVENT_CHAIN_KEY_FILE_NAME);
}

/**
 * Loads the chain key (creating it on first use unless `createKey: false`, for a command that must leave nothing
 * behind) and opens the log with it, anchoring into `repository` if given.
 */
export async function openKeyedEventLog(options: {
  db: Kysely<OperationalSchema>;
  clock: Clock;
  env: NodeJS.ProcessEnv;
  dataDir: string;
  repository?: string;
  logger?: Logger;
  createKey?: boolean;
}): Promise<KeyedEventLog> {
  const chainKey = await loadEventChainKey({
    env: options.env,
    keyFile: eventChainKeyFile(options.dataDir),
    create: options.createKey ?? true,
  });
  let anchorer: EventAnchorer | null = null;
  const events = new EventLog(options.db, options.clock, {
    chainKey,
    onAppended: (head) => anchorer?.noteAppended(head),
  });
  if (options.repository !== undefined && chainKey) {
    anchorer = new EventAnchorer({
      repository: options.repository,
      chainKey,
      head: () => events.head(),
      clock: options.clock,
      policy: anchorPolicyFromEnv(options.env),
      ...(options.logger ? { logger: options.logger } : {}),
    });
  }
  return { events, chainKey, anchorer };
}
