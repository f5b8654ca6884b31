import ipaddr from 'ipaddr.js';
import type { Config } from '../../env';

/*
 * Which URLs webhooks may be posted to (SSRF protection), checked at registration and again
 * before every attempt. Address ranges come from ipaddr.js, a small, dependency-free and
 * long-maintained library (it backs Express's proxy-addr), rather than from hand-written CIDR
 * arithmetic: only addresses it classifies as public unicast are accepted.
 *
 * Host names are not resolved here: Workers cannot resolve DNS before a fetch, and a name that
 * resolves to an internal address is Cloudflare's outbound network's to refuse. What this check
 * guarantees is that no URL names such an address directly, in any spelling the URL parser
 * accepts (`0x7f.1`, `2130706433` and `0177.0.0.1` all parse to 127.0.0.1 before they get here).
 */

/** Human names of the ranges ipaddr.js reports, for the problem detail. */
const rangeNames: Record<string, string> = {
  private: 'a private network address (10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16)',
  loopback: 'a loopback address',
  linkLocal: 'a link-local address',
  carrierGradeNat: 'a carrier-grade NAT address (100.64.0.0/10)',
  uniqueLocal: 'a unique-local IPv6 address (fc00::/7)',
  unspecified: 'the unspecified address',
};

const DEVELOPMENT_HOSTS = new Set(['localhost', '127.0.0.1']);

/**
 * The IPv4 address an IPv6 address carries in its last 32 bits when it is IPv4-mapped
 * (::ffff:a.b.c.d) or of the deprecated IPv4-compatible form (::a.b.c.d): both reach that IPv4
 * address, so they are judged as it.
 */
function embeddedIPv4(address: ipaddr.IPv6): ipaddr.IPv4 | null {
  if (address.isIPv4MappedAddress()) return address.toIPv4Address();
  const range = address.range();
  const compatible = address.parts.slice(0, 6).every((part) => part === 0);
  if (!compatible || range === 'loopback' || range === 'unspecified') return null;
  return new ipaddr.IPv4(address.toByteArray().slice(12));
}

function addressRefusal(host: string): string | null {
  const literal = host.startsWith('[') ? host.slice(1, -1) : host;
  if (!ipaddr.isValid(literal)) return null;
  const parsed = ipaddr.parse(literal);
  const address = parsed.kind() === 'ipv6' ? (embeddedIPv4(parsed as ipaddr.IPv6) ?? parsed) : parsed;
  const range = address.range();
  if (range === 'unicast') return null;
  const what = rangeNames[range] ?? `a special-purpose address (${range})`;
  return `the host ${host} is ${what}, which webhooks may not reach`;
}

/**
 * Why a URL may not receive webhooks, or null when it may. Production and test accept only
 * https to a public host; development also accepts http and https to localhost and 127.0.0.1,
 * so a receiver on the developer's machine can be tried.
 */
export function webhookUrlRefusal(raw: string, environment: Config['environment']): string | null {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return 'the URL is not an absolute URL';
  }
  if (url.username || url.password) return 'the URL must not carry credentials';
  // `localhost.` is `localhost`: the trailing dot only marks the name as fully qualified.
  const host = url.hostname.replace(/\.$/, '');
  if (environment === 'development' && DEVELOPMENT_HOSTS.has(host)) {
    return url.protocol === 'http:' || url.protocol === 'https:'
      ? null
      : 'the URL must use https (or http to localhost in development)';
  }
  if (url.protocol !== 'https:') return 'the URL must use https';
  if (host === 'localhost' || host.endsWith('.localhost')) {
    return `the host ${host} is the local machine, which webhooks may not reach`;
  }
  return addressRefusal(host);
}
