// An entry's `expected_sources` (IPs, CIDR blocks, service host names), compiled into a matcher on node's own
// BlockList (no hand-written CIDR arithmetic).
import { BlockList, isIP } from 'node:net';

export interface SourceMatcher {
  /** True when `source` (an IP address or a service host name) is one of the declared sources. */
  matches(source: string): boolean;
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
    matches(source: string): boolean {
      const family = isIP(source);
      if (family === 0) return services.has(source.toLowerCase());
      return blocks.check(source, family === 4 ? 'ipv4' : 'ipv6');
    },
  };
}
