// The shared cron arithmetic: 5- and 6-field expressions, UTC whatever the process's zone, and a refusal that
// names where the bad expression came from.
import { describe, expect, it } from 'vitest';
import { checkCronExpression, nextCronTick } from './cron-schedule.js';

describe('cron schedules', () => {
  it('computes the next tick of 5- and 6-field expressions in UTC', () => {
    expect(nextCronTick('0 2 * * *', new Date('2026-12-07T10:00:00Z')).toISOString()).toBe('2026-12-08T02:00:00.000Z');
    expect(nextCronTick('*/5 * * * * *', new Date('2026-12-07T10:00:01Z')).toISOString()).toBe(
      '2026-12-07T10:00:05.000Z',
    );
    // Strictly after: a tick exactly now is not the next one.
    expect(nextCronTick('0 * * * *', new Date('2026-12-07T10:00:00Z')).toISOString()).toBe('2026-12-07T11:00:00.000Z');
  });

  it('refuses an expression that does not parse, naming its source', () => {
    expect(checkCronExpression('*/15 * * * *', '--schedule')).toBe('*/15 * * * *');
    expect(() => checkCronExpression('every day', 'jobs.discovery.schedule')).toThrow(
      /jobs\.discovery\.schedule "every day" is not a cron expression/,
    );
  });
});
