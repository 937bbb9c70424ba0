// What the API's routes share: the one app, the key index, tokens, the denial log, the rotations it drives and the
// team records.
import type { KeyledgerApp } from '../../app/keyledger-app.js';
import type { Clock } from '../../runtime/clock.js';
import type { Logger } from '../../telemetry/logger.js';
import type { AccessDenials } from '../auth/access-denials.js';
import type { ApiTokens } from '../auth/api-tokens.js';
import type { TeamAccess } from '../team-access.js';
import type { BackgroundRotations } from './background-rotations.js';
import type { KeyIndex } from './key-index.js';

export interface ApiServices {
  app: KeyledgerApp;
  clock: Clock;
  logger: Logger;
  index: KeyIndex;
  tokens: ApiTokens;
  denials: AccessDenials;
  rotations: BackgroundRotations;
  /** The team records and role grants, shared with the dashboard (src/server/team-access.ts). */
  teams: TeamAccess;
}
