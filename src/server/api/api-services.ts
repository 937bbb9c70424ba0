// What the API's routes share: the one app, the key index, tokens, the denial log and the rotations it drives.
import type { KeyledgerApp } from '../../app/keyledger-app.js';
import type { Clock } from '../../runtime/clock.js';
import type { Logger } from '../../telemetry/logger.js';
import type { AccessDenials } from '../auth/access-denials.js';
import type { ApiTokens } from '../auth/api-tokens.js';
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
}
