import { describe, expect, it } from 'vitest';
import { webhookUrlRefusal } from '../../src/modules/webhooks/url-policy';

/** Each forbidden range, written the ways an attacker would try. */
const forbidden: [range: string, urls: string[]][] = [
  [
    'private',
    [
      'https://10.0.0.1/hook',
      'https://10.255.255.255/',
      'https://172.16.0.1/',
      'https://172.31.255.254/',
      'https://192.168.1.10/',
    ],
  ],
  ['loopback', ['https://127.0.0.1/', 'https://127.1.2.3/', 'https://[::1]/']],
  ['link-local', ['https://169.254.169.254/latest/meta-data/', 'https://[fe80::1]/', 'https://[febf::1]/']],
  ['carrier-grade NAT', ['https://100.64.0.1/', 'https://100.127.255.254/']],
  ['unique-local', ['https://[fc00::1]/', 'https://[fd12:3456:789a::1]/']],
  ['unspecified', ['https://0.0.0.0/', 'https://[::]/']],
  [
    'IPv4-mapped and IPv4-compatible IPv6',
    [
      'https://[::ffff:127.0.0.1]/',
      'https://[::ffff:10.0.0.1]/',
      'https://[::ffff:a9fe:a9fe]/',
      'https://[::ffff:100.64.0.1]/',
      'https://[::127.0.0.1]/',
    ],
  ],
  [
    'numeric IPv4 spellings the URL parser normalises',
    [
      'https://2130706433/', // 127.0.0.1 as one decimal number
      'https://0x7f.1/', // hex and a short form
      'https://0177.0.0.1/', // octal
      'https://0xa9.0xfe.0xa9.0xfe/', // 169.254.169.254
      'https://167772161/', // 10.0.0.1
    ],
  ],
  [
    'other special-purpose ranges',
    ['https://224.0.0.1/', 'https://255.255.255.255/', 'https://[64:ff9b::a00:1]/'],
  ],
  [
    'localhost',
    ['https://localhost/', 'https://LOCALHOST./hook', 'https://api.localhost/', 'https://a.b.localhost/'],
  ],
];

describe('webhook URL policy (SSRF)', () => {
  for (const [range, urls] of forbidden) {
    it(`refuses ${range} hosts in production and test`, () => {
      for (const url of urls) {
        for (const environment of ['production', 'test'] as const) {
          expect(webhookUrlRefusal(url, environment), `${url} (${environment})`).toMatch(/may not reach/);
        }
      }
    });
  }

  it('names the range in the refusal', () => {
    expect(webhookUrlRefusal('https://10.1.2.3/', 'production')).toContain('private network address');
    expect(webhookUrlRefusal('https://100.64.1.1/', 'production')).toContain('carrier-grade NAT');
    expect(webhookUrlRefusal('https://169.254.0.1/', 'production')).toContain('link-local');
    expect(webhookUrlRefusal('https://[fd00::1]/', 'production')).toContain('unique-local');
    expect(webhookUrlRefusal('https://2130706433/', 'production')).toContain(
      '127.0.0.1 is a loopback address',
    );
  });

  it('accepts https to public names and addresses', () => {
    for (const url of [
      'https://hooks.example.com/fincore',
      'https://hooks.example.com:8443/a?b=c',
      'https://93.184.216.34/hook',
      'https://172.32.0.1/', // just outside 172.16.0.0/12
      'https://100.128.0.1/', // just outside 100.64.0.0/10
      'https://[2606:4700:4700::1111]/',
      'https://notlocalhost.example/',
    ]) {
      expect(webhookUrlRefusal(url, 'production'), url).toBeNull();
    }
  });

  it('requires https, an absolute URL and no credentials', () => {
    expect(webhookUrlRefusal('http://hooks.example.com/', 'production')).toBe('the URL must use https');
    expect(webhookUrlRefusal('ftp://hooks.example.com/', 'production')).toBe('the URL must use https');
    expect(webhookUrlRefusal('/relative', 'production')).toBe('the URL is not an absolute URL');
    expect(webhookUrlRefusal('https://user:pass@hooks.example.com/', 'production')).toBe(
      'the URL must not carry credentials',
    );
  });

  it('allows http and https to localhost and 127.0.0.1 in development only', () => {
    for (const url of ['http://localhost:3000/hook', 'http://127.0.0.1:8080/', 'https://localhost/']) {
      expect(webhookUrlRefusal(url, 'development'), url).toBeNull();
      expect(webhookUrlRefusal(url, 'production'), url).not.toBeNull();
      expect(webhookUrlRefusal(url, 'test'), url).not.toBeNull();
    }
    // Development is not a licence for the rest of the private network.
    expect(webhookUrlRefusal('http://10.0.0.1/', 'development')).not.toBeNull();
    expect(webhookUrlRefusal('https://192.168.0.1/', 'development')).not.toBeNull();
    expect(webhookUrlRefusal('http://hooks.example.com/', 'development')).toBe('the URL must use https');
  });
});
