// Slack's credential formats: bot tokens `xoxb-<team number>-<bot number>-<24 alphanumerics>`, user tokens
// `xoxp-<team number>-<user number>-<app number>-<32 hex>`, app-level tokens `xapp-1-<app id>-<number>-<64 hex>`,
// and incoming webhooks `https://hooks.slack.com/services/T…/B…/<24 alphanumerics>`. Team ids start with T, users
// with U, bots and webhooks' integrations with B.
import { BASE62, type RandomSource, randomString } from '../../sandbox-seed.js';

const UPPER = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
const HEX = '0123456789abcdef';
const DIGITS = '0123456789';

export const SLACK_BOT_TOKEN_PATTERN = /^xoxb-\d+-\d+-[0-9A-Za-z]{24}$/;
export const SLACK_USER_TOKEN_PATTERN = /^xoxp-\d+-\d+-\d+-[0-9a-f]{32}$/;
export const SLACK_WEBHOOK_PATTERN =
  /^https:\/\/hooks\.slack\.com\/services\/(T[0-9A-Z]+)\/(B[0-9A-Z]+)\/([0-9A-Za-z]+)$/;

export function generateSlackId(prefix: 'T' | 'U' | 'B' | 'A', random: RandomSource): string {
  return `${prefix}${randomString(UPPER, 10, random)}`;
}

export function generateSlackBotToken(random: RandomSource): string {
  return `xoxb-${randomString(DIGITS, 12, random)}-${randomString(DIGITS, 13, random)}-${randomString(BASE62, 24, random)}`;
}

export function generateSlackUserToken(random: RandomSource): string {
  return `xoxp-${randomString(DIGITS, 12, random)}-${randomString(DIGITS, 12, random)}-${randomString(DIGITS, 13, random)}-${randomString(HEX, 32, random)}`;
}

export function generateSlackWebhookPath(teamId: string, integrationId: string, random: RandomSource): string {
  return `/services/${teamId}/${integrationId}/${randomString(BASE62, 24, random)}`;
}
