import { describe, expect, it } from 'vitest';
import { parsePeopleDirectory } from './people-directory.js';

describe('people directory', () => {
  it('reads an HR CSV export, case-insensitively by email', () => {
    const directory = parsePeopleDirectory(
      'Email,Name,Team,Status,Left_At\nAlice@Example.com,Alice,payments,active,\ncarol@example.com,"Nguyen, Carol",platform,left,2026-06-30\n',
      'people.csv',
    );
    expect(directory.size).toBe(2);
    expect(directory.find('alice@example.com')).toMatchObject({ team: 'payments', status: 'active' });
    expect(directory.find('CAROL@example.com')).toMatchObject({
      name: 'Nguyen, Carol',
      status: 'left',
      left_at: '2026-06-30',
    });
    expect(directory.teams()).toEqual(new Set(['payments', 'platform']));
  });

  it('reads a YAML list or a `people:` mapping', () => {
    expect(parsePeopleDirectory('- email: a@example.com\n  team: x\n', 'people.yaml').find('a@example.com')?.team).toBe(
      'x',
    );
    expect(parsePeopleDirectory('people:\n  - email: b@example.com\n', 'people.yml').size).toBe(1);
  });

  it('names the line of a bad CSV row', () => {
    expect(() => parsePeopleDirectory('email,status\na@example.com,active\nb@example.com,retired\n', 'hr.csv')).toThrow(
      /hr\.csv:3: person 2: status/,
    );
  });
});
