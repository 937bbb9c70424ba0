// The options of the Slack adapter and the Web API answers it reads (zod).
import { z } from 'zod';
import { httpProviderOptionsSchema } from '../http/provider-http-options.js';
import { SLACK_API_URL } from './slack-constants.js';

export const slackOptionsSchema = httpProviderOptionsSchema.extend({
  /** The Web API root, `https://slack.com/api` (methods are `/auth.test`, `/auth.revoke`). */
  baseUrl: z.url().default(SLACK_API_URL),
});

export type SlackOptions = z.output<typeof slackOptionsSchema>;
export type SlackOptionsInput = z.input<typeof slackOptionsSchema>;

/** Every Web API answer: `{ok: true, ...}` or `{ok: false, error: "invalid_auth"}` (HTTP 200 either way). */
export const slackAnswerSchema = z.looseObject({
  ok: z.boolean(),
  error: z.string().optional(),
  warning: z.string().optional(),
  team_id: z.string().optional(),
  user_id: z.string().optional(),
  bot_id: z.string().optional(),
  revoked: z.boolean().optional(),
});
