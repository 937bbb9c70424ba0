// The discovery-source table: every name loads a source of that name, and options are checked before a source runs.
import { describe, expect, it } from 'vitest';
import { DISCOVERY_SOURCE_NAMES, discoverySourceTable, loadDiscoverySource } from './discovery-source-table.js';

describe('discovery source table', () => {
  for (const name of DISCOVERY_SOURCE_NAMES) {
    it(`loads ${name} under its own name, with a description and at least one option`, async () => {
      const source = await discoverySourceTable[name]();
      expect(source.name).toBe(name);
      expect(source.description.length).toBeGreaterThan(10);
      expect(Object.keys(source.options).length).toBeGreaterThan(0);
    });
  }

  it('refuses an unknown source, an unknown option and a missing required one', async () => {
    await expect(loadDiscoverySource('dropbox', {})).rejects.toThrow(/unknown discovery source dropbox/);
    await expect(loadDiscoverySource('dotenv', { path: '.', depth: '3' })).rejects.toThrow(/takes no option depth/);
    await expect(loadDiscoverySource('bitwarden-json', {})).rejects.toThrow(/needs --source-option file=/);
    expect((await loadDiscoverySource('dotenv', { path: '.' })).name).toBe('dotenv');
  });
});
