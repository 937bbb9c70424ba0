// An entry's `expected_sources` (IPs, CIDR blocks, service host names), compiled into a matcher on node's own
// BlockList (no hand-written CIDR arithmetic).
import { BlockList, isIP, SocketAddress } from 'node:net';

export interface SourceMatcher {
  /** True when `source` (an IP address or a service host name) is one of the declared sources. */
  matches(source: string | ParsedSource): boolean;
}

/**
 * A source read once for several matchers: BlockList.check on a string builds a SocketAddress each call, and
 * attributing a source asks every team's matcher (credential-index.ts), so the address is built here once.
 */
export interface ParsedSource {
  text: string;
  address: SocketAddress | undefined;
}

export function parseSource(source: string): ParsedSource {
  const family = isIP(source);
  return {
    text: source,
    address: family === 0 ? undefined : new SocketAddress({ address: source, family: family === 4 ? 'ipv4' : 'ipv6' }),
  };
}

export function sourceMatcher(specs: readonly string[]): SourceMatcher {
  const blocks = new BlockList();
  const services = new Set<string>();
  for (const spec of specs) {
    const [address, bits] = spec.split('/');
    const family = isIP(address ?? '');
    if (family === 0) services.add(spec.toLowerCase());
    else if (bits !== undefined) blocks.addSubnet(address!, Number(bits), family === 4 ? 'ipv4' : 'ipv6');
    else blocks.addAddress(address!, family === 4 ? 'ipv4' : 'ipv6');
  }
  return {
    matches(source: string | ParsedSource): boolean {
      if (typeof source !== 'string') {
        return source.address ? blocks.check(source.address) : services.has(source.text.toLowerCase());
      }
      const family = isIP(source);
      if (family === 0) return services.has(source.toLowerCase());
      return blocks.check(source, family === 4 ? 'ipv4' : 'ipv6');
    },
  };
}
