// An entry's `expected_sources` (IPs, CIDR blocks, service host names), compiled into a matcher. IPv6 goes through
// node's own BlockList; IPv4, nearly every source an audit log shows, is checked as a 32-bit integer against each
// block's network and mask: BlockList.check builds a SocketAddress per call, and that alone was a tenth of an
// ingest's time (every record asks its key's matcher and every team's, credential-index.ts). The integer path
// is held to BlockList's answers by expected-sources.test.ts.
import { BlockList, isIP, SocketAddress } from 'node:net';

export interface SourceMatcher {
  /** True when `source` (an IP address or a service host name) is one of the declared sources. */
  matches(source: string | ParsedSource): boolean;
}

/** A source read once for several matchers (attributing a source asks every team's). */
export interface ParsedSource {
  text: string;
  family: 0 | 4 | 6;
  /** The IPv4 address as an unsigned 32-bit integer. */
  v4?: number;
  /** Built on first need (an IPv6 source, or an IPv4 one against IPv6 blocks), then kept. */
  address?: SocketAddress;
}

export function parseSource(source: string): ParsedSource {
  const family = isIP(source) as 0 | 4 | 6;
  return family === 4 ? { text: source, family, v4: ipv4ToInt(source) } : { text: source, family };
}

/** A dotted quad that isIP accepted, as an unsigned integer. */
function ipv4ToInt(address: string): number {
  let value = 0;
  let octet = 0;
  for (let i = 0; i < address.length; i++) {
    const code = address.charCodeAt(i);
    if (code === 0x2e) {
      value = value * 256 + octet;
      octet = 0;
    } else octet = octet * 10 + (code - 0x30);
  }
  return value * 256 + octet;
}

function socketAddressOf(source: ParsedSource): SocketAddress {
  source.address ??= new SocketAddress({ address: source.text, family: source.family === 4 ? 'ipv4' : 'ipv6' });
  return source.address;
}

export function sourceMatcher(specs: readonly string[]): SourceMatcher {
  const blocks = new BlockList();
  const services = new Set<string>();
  /** IPv4 blocks as [network, mask], both unsigned. */
  const v4: Array<[number, number]> = [];
  let hasV6 = false;
  for (const spec of specs) {
    const [address, bits] = spec.split('/');
    const family = isIP(address ?? '');
    if (family === 0) {
      services.add(spec.toLowerCase());
      continue;
    }
    if (bits !== undefined) blocks.addSubnet(address!, Number(bits), family === 4 ? 'ipv4' : 'ipv6');
    else blocks.addAddress(address!, family === 4 ? 'ipv4' : 'ipv6');
    if (family === 6) {
      hasV6 = true;
      continue;
    }
    const prefix = bits === undefined ? 32 : Number(bits);
    const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
    v4.push([(ipv4ToInt(address!) & mask) >>> 0, mask]);
  }
  const check = (source: ParsedSource): boolean => {
    if (source.family === 0) return services.has(source.text.toLowerCase());
    if (source.family === 4) {
      const ip = source.v4!;
      for (const [network, mask] of v4) if ((ip & mask) >>> 0 === network) return true;
      // An IPv6 block can hold IPv4 addresses (::ffff:0:0/96): those BlockList answers for.
      return hasV6 ? blocks.check(socketAddressOf(source)) : false;
    }
    return blocks.check(socketAddressOf(source));
  };
  return {
    matches: (source: string | ParsedSource): boolean =>
      check(typeof source === 'string' ? parseSource(source) : source),
  };
}
