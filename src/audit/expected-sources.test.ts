// The matcher's IPv4 integer path gives BlockList's answer: thousands of seeded random addresses against blocks of
// every prefix length (and bare addresses), with and without an IPv6 block that holds IPv4-mapped addresses;
// service names match case-insensitively; IPv6 sources go through BlockList.
import { BlockList, isIP } from 'node:net';
import { describe, expect, it } from 'vitest';
import { parseSource, sourceMatcher } from './expected-sources.js';

function prng(seed: number) {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 4294967296;
  };
}

const random = prng(7);
const octet = () => Math.floor(random() * 256);
const address = () => `${octet()}.${octet()}.${octet()}.${octet()}`;

function reference(specs: readonly string[], source: string): boolean {
  const blocks = new BlockList();
  for (const spec of specs) {
    const [ip, bits] = spec.split('/');
    const family = isIP(ip!) === 4 ? 'ipv4' : 'ipv6';
    if (bits !== undefined) blocks.addSubnet(ip!, Number(bits), family);
    else blocks.addAddress(ip!, family);
  }
  return blocks.check(source, isIP(source) === 4 ? 'ipv4' : 'ipv6');
}

describe('sourceMatcher', () => {
  it('answers as BlockList does for IPv4 sources against IPv4 blocks of every prefix length', () => {
    for (let round = 0; round < 200; round++) {
      const specs = Array.from({ length: 1 + Math.floor(random() * 4) }, () => {
        const bits = Math.floor(random() * 33);
        return random() < 0.2 ? address() : `${address()}/${bits}`;
      });
      const matcher = sourceMatcher(specs);
      for (let i = 0; i < 50; i++) {
        // Half the sources near a declared block, so both answers occur.
        const base = specs[i % specs.length]!.split('/')[0]!.split('.');
        const source = random() < 0.5 ? `${base[0]}.${base[1]}.${octet()}.${octet()}` : address();
        expect(matcher.matches(source), `${source} in ${specs.join(' ')}`).toBe(reference(specs, source));
        expect(matcher.matches(parseSource(source))).toBe(reference(specs, source));
      }
    }
  });

  it('edges: /0 holds everything, /32 and a bare address one, the top and bottom of a block', () => {
    expect(sourceMatcher(['0.0.0.0/0']).matches('255.255.255.255')).toBe(true);
    expect(sourceMatcher(['10.0.0.7/32']).matches('10.0.0.7')).toBe(true);
    expect(sourceMatcher(['10.0.0.7/32']).matches('10.0.0.8')).toBe(false);
    expect(sourceMatcher(['10.0.0.7']).matches('10.0.0.7')).toBe(true);
    expect(sourceMatcher(['192.0.2.0/24']).matches('192.0.2.255')).toBe(true);
    expect(sourceMatcher(['192.0.2.0/24']).matches('192.0.3.0')).toBe(false);
    expect(sourceMatcher(['192.0.2.77/24']).matches('192.0.2.1')).toBe(true);
    expect(sourceMatcher(['128.0.0.0/1']).matches('200.1.1.1')).toBe(true);
    expect(sourceMatcher(['128.0.0.0/1']).matches('127.255.255.255')).toBe(false);
  });

  it('IPv6 blocks and sources, IPv4-mapped blocks, and service names', () => {
    const specs = ['2001:db8::/32', '::ffff:0:0/96', 'Build.Example.com'];
    const matcher = sourceMatcher(specs);
    for (const source of ['2001:db8::1', '2001:db9::1', '10.1.2.3']) {
      expect(matcher.matches(source), source).toBe(reference(specs.slice(0, 2), source));
    }
    expect(matcher.matches('build.example.com')).toBe(true);
    expect(matcher.matches('other.example.com')).toBe(false);
    expect(sourceMatcher(['10.0.0.0/8']).matches('not-an-ip')).toBe(false);
  });
});
