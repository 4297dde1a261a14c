import { describe, it, expect } from 'vitest';
import {
  convertResult,
  parseResult,
  prevResultFromConfig,
  resultToJSON,
  isResult020,
  isResult040,
  isResult1x,
  type AnyResult,
  type Result020,
  type Result040,
  type Result1x,
} from '../../host/cni/result.ts';
import { parseCIDR, parseIP } from '../../host/cni/ipaddr.ts';
import { CniError, ErrorCode } from '../../host/cni/errors.ts';
import { SUPPORTED_VERSIONS, type CniVersion } from '../../host/cni/version.ts';

type Fam = '02x' | '04x' | '1x';
const famOf = (v: string): Fam => (v.startsWith('0.1') || v.startsWith('0.2') ? '02x' : v.startsWith('0.') ? '04x' : '1x');

/** Expect fn to throw a CniError with this code and a message matching msg. */
function expectCniError(fn: () => unknown, code: number, msg: RegExp): void {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(CniError);
  const e = caught as CniError;
  expect({ code: e.code, msg: e.message }).toEqual({ code, msg: expect.stringMatching(msg) });
}

const DNS = {
  nameservers: ['10.0.0.53', 'fd00::53'],
  domain: 'cluster.local',
  search: ['svc.cluster.local'],
  options: ['ndots:5'],
};

// A 1.1 result using every field: two IPs per family, routes of both families, 1.1-only fields.
const full1x: Omit<Result1x, 'cniVersion'> = {
  interfaces: [
    { name: 'cni0', mac: '0a:58:0a:00:00:01', mtu: 1500 },
    { name: 'veth1234', mac: '0a:58:0a:00:00:02' },
    {
      name: 'eth0',
      mac: '0a:58:0a:00:00:03',
      mtu: 9000,
      sandbox: '/run/netns/c1',
      socketPath: '/run/vhost.sock',
      pciID: '0000:00:1f.6',
    },
  ],
  ips: [
    { interface: 2, address: '10.0.0.2/24', gateway: '10.0.0.1' },
    { interface: 2, address: 'fd00::2/64', gateway: 'fd00::1' },
    { interface: 2, address: '10.1.0.2/16' },
    { address: 'fd01::2/64', gateway: 'fd01::1' },
  ],
  routes: [
    { dst: '0.0.0.0/0', gw: '10.0.0.1' },
    { dst: '::/0', gw: 'fd00::1', mtu: 1400, advmss: 1360, priority: 100, table: 0, scope: 0 },
    { dst: '10.96.0.0/12', table: 100, scope: 253 },
  ],
  dns: DNS,
};

// What libcni makes of full1x in 0.3.x/0.4.0: interfaces lose mtu/socketPath/pciID, IPs gain
// `version`, routes keep every attribute (libcni shares one Route type across 0.3–1.x).
const full040: Omit<Result040, 'cniVersion'> = {
  interfaces: [
    { name: 'cni0', mac: '0a:58:0a:00:00:01' },
    { name: 'veth1234', mac: '0a:58:0a:00:00:02' },
    { name: 'eth0', mac: '0a:58:0a:00:00:03', sandbox: '/run/netns/c1' },
  ],
  ips: [
    { version: '4', interface: 2, address: '10.0.0.2/24', gateway: '10.0.0.1' },
    { version: '6', interface: 2, address: 'fd00::2/64', gateway: 'fd00::1' },
    { version: '4', interface: 2, address: '10.1.0.2/16' },
    { version: '6', address: 'fd01::2/64', gateway: 'fd01::1' },
  ],
  routes: full1x.routes!,
  dns: DNS,
};

// full040 back in 1.x: what 0.x could not hold stays lost.
const full040as1x: Omit<Result1x, 'cniVersion'> = {
  interfaces: full040.interfaces!,
  ips: full1x.ips!,
  routes: full1x.routes!,
  dns: DNS,
};

// What libcni makes of full1x/full040 in 0.1.0/0.2.0: first IP per family, routes by dst family.
const full020: Omit<Result020, 'cniVersion'> = {
  ip4: {
    ip: '10.0.0.2/24',
    gateway: '10.0.0.1',
    routes: [{ dst: '0.0.0.0/0', gw: '10.0.0.1' }, { dst: '10.96.0.0/12' }],
  },
  ip6: { ip: 'fd00::2/64', gateway: 'fd00::1', routes: [{ dst: '::/0', gw: 'fd00::1' }] },
  dns: DNS,
};

// full020 in 0.3.0+: ip4 then ip6, their routes collected in that order, no interfaces.
const full020as040: Omit<Result040, 'cniVersion'> = {
  ips: [
    { version: '4', address: '10.0.0.2/24', gateway: '10.0.0.1' },
    { version: '6', address: 'fd00::2/64', gateway: 'fd00::1' },
  ],
  routes: [{ dst: '0.0.0.0/0', gw: '10.0.0.1' }, { dst: '10.96.0.0/12' }, { dst: '::/0', gw: 'fd00::1' }],
  dns: DNS,
};
const full020as1x: Omit<Result1x, 'cniVersion'> = {
  ips: [
    { address: '10.0.0.2/24', gateway: '10.0.0.1' },
    { address: 'fd00::2/64', gateway: 'fd00::1' },
  ],
  routes: full020as040.routes!,
  dns: DNS,
};

const source: Record<Fam, object> = { '1x': full1x, '04x': full040, '02x': full020 };
const expected: Record<Fam, Record<Fam, object>> = {
  '1x': { '1x': full1x, '04x': full040, '02x': full020 },
  '04x': { '1x': full040as1x, '04x': full040, '02x': full020 },
  '02x': { '1x': full020as1x, '04x': full020as040, '02x': full020 },
};

const withVersion = (v: string, body: object): AnyResult => ({ cniVersion: v, ...body }) as AnyResult;

const pairs: [CniVersion, CniVersion][] = SUPPORTED_VERSIONS.flatMap((from) =>
  SUPPORTED_VERSIONS.map((to): [CniVersion, CniVersion] => [from, to]),
);

describe('convertResult: every pair of versions', () => {
  it('covers 49 pairs', () => {
    expect(pairs).toHaveLength(49);
  });

  it.each(pairs)('%s -> %s', (from, to) => {
    const src = parseResult(structuredClone(withVersion(from, source[famOf(from)])), 'result');
    const out = convertResult(src, to);
    expect(out).toEqual(withVersion(to, expected[famOf(from)][famOf(to)]));
    // What we print reads back as the same result.
    expect(parseResult(JSON.parse(resultToJSON(out)), 'result')).toEqual(out);
    // The source is not aliased: changing the output leaves it alone.
    const before = structuredClone(src);
    const o = out as unknown as Record<string, unknown>;
    for (const v of Object.values(o)) if (typeof v === 'object' && v) (v as Record<string, unknown>)['x'] = 1;
    expect(src).toEqual(before);
  });
});

describe('convertResult: edge cases', () => {
  it('0.2.0 with only IPv6 goes up to one ips entry with version "6"', () => {
    const r = parseResult(
      { cniVersion: '0.2.0', ip6: { ip: 'fd00::5/64', gateway: 'fd00::1', routes: [{ dst: '::/0' }] } },
      'r',
    );
    expect(convertResult(r, '0.4.0')).toEqual({
      cniVersion: '0.4.0',
      ips: [{ version: '6', address: 'fd00::5/64', gateway: 'fd00::1' }],
      routes: [{ dst: '::/0' }],
    });
    expect(convertResult(r, '1.1.0')).toEqual({
      cniVersion: '1.1.0',
      ips: [{ address: 'fd00::5/64', gateway: 'fd00::1' }],
      routes: [{ dst: '::/0' }],
    });
  });

  it('IPv6 only down to 0.2.0: ip6 set, ip4 absent, IPv4 routes dropped', () => {
    const r: Result1x = {
      cniVersion: '1.0.0',
      ips: [{ address: 'fd00::5/64' }],
      routes: [{ dst: '0.0.0.0/0', gw: '10.0.0.1' }, { dst: '::/0', gw: 'fd00::1' }],
    };
    expect(convertResult(r, '0.2.0')).toEqual({
      cniVersion: '0.2.0',
      ip6: { ip: 'fd00::5/64', routes: [{ dst: '::/0', gw: 'fd00::1' }] },
    });
  });

  it.each(['0.1.0', '0.2.0'] as const)('no IP at all cannot become %s: IncompatibleVersion', (to) => {
    const r1: Result1x = { cniVersion: '1.1.0', interfaces: [{ name: 'eth0' }], routes: [{ dst: '0.0.0.0/0' }] };
    expectCniError(() => convertResult(r1, to), ErrorCode.IncompatibleVersion, /no valid IP addresses/);
    const r4: Result040 = { cniVersion: '0.4.0', dns: { nameservers: ['1.1.1.1'] } };
    expectCniError(() => convertResult(r4, to), ErrorCode.IncompatibleVersion, /0\.4\.0 to 0\.[12]\.0/);
  });

  it('an empty 0.2.0 result goes up to an empty result (libcni does not require IPs there)', () => {
    expect(convertResult({ cniVersion: '0.1.0' }, '0.3.0')).toEqual({ cniVersion: '0.3.0' });
    expect(convertResult({ cniVersion: '0.1.0' }, '0.2.0')).toEqual({ cniVersion: '0.2.0' });
  });

  it('several IPs of one family: the first of each family is kept, whatever the order', () => {
    const r: Result040 = {
      cniVersion: '0.3.1',
      ips: [
        { version: '6', address: 'fd00::a/64' },
        { version: '4', address: '192.168.1.10/24', gateway: '192.168.1.1' },
        { version: '6', address: 'fd00::b/64', gateway: 'fd00::1' },
        { version: '4', address: '192.168.1.11/24' },
      ],
    };
    expect(convertResult(r, '0.1.0')).toEqual({
      cniVersion: '0.1.0',
      ip4: { ip: '192.168.1.10/24', gateway: '192.168.1.1' },
      ip6: { ip: 'fd00::a/64' },
    });
  });

  it('routes are split by the family of their dst, keeping only dst and gw', () => {
    const r: Result1x = {
      cniVersion: '1.1.0',
      ips: [{ address: '10.0.0.2/24' }, { address: 'fd00::2/64' }],
      routes: [
        { dst: 'fd10::/64', gw: 'fd00::1', mtu: 1280 },
        { dst: '10.10.0.0/16', gw: '10.0.0.254', priority: 5, table: 7, scope: 0 },
        { dst: '::/0' },
        { dst: '0.0.0.0/0', advmss: 1000 },
      ],
    };
    expect(convertResult(r, '0.2.0')).toEqual({
      cniVersion: '0.2.0',
      ip4: { ip: '10.0.0.2/24', routes: [{ dst: '10.10.0.0/16', gw: '10.0.0.254' }, { dst: '0.0.0.0/0' }] },
      ip6: { ip: 'fd00::2/64', routes: [{ dst: 'fd10::/64', gw: 'fd00::1' }, { dst: '::/0' }] },
    });
  });

  it('1.1 route fields survive to 1.0.0 and 0.4.0/0.3.x (as in libcni), and back up', () => {
    const route = { dst: '10.10.0.0/16', gw: '10.0.0.254', mtu: 1400, advmss: 1360, priority: 9, table: 0, scope: 253 };
    const r: Result1x = { cniVersion: '1.1.0', ips: [{ address: '10.0.0.2/24' }], routes: [route] };
    expect(convertResult(r, '1.0.0').routes).toEqual([route]);
    const r04 = convertResult(r, '0.3.0');
    expect(r04.routes).toEqual([route]);
    expect(convertResult(r04, '1.1.0')).toEqual(r);
  });

  it('1.1 interface fields survive to 1.0.0 and are dropped for 0.4.0 and older', () => {
    const eth0 = { name: 'eth0', mac: '02:00:00:00:00:01', mtu: 9000, sandbox: '/run/netns/x', socketPath: '/s', pciID: 'p' };
    const r: Result1x = { cniVersion: '1.1.0', interfaces: [eth0], ips: [{ interface: 0, address: '10.0.0.2/24' }] };
    expect(convertResult(r, '1.0.0')).toEqual({ ...r, cniVersion: '1.0.0' });
    expect(convertResult(r, '0.4.0').interfaces).toEqual([{ name: 'eth0', mac: '02:00:00:00:00:01', sandbox: '/run/netns/x' }]);
    expect(convertResult(convertResult(r, '0.4.0'), '1.1.0').interfaces).toEqual([
      { name: 'eth0', mac: '02:00:00:00:00:01', sandbox: '/run/netns/x' },
    ]);
  });

  it('keeps the interface index (including 0) between 0.3+ versions, drops it for 0.2.0', () => {
    const r: Result1x = {
      cniVersion: '1.0.0',
      interfaces: [{ name: 'lo' }, { name: 'eth0' }],
      ips: [
        { interface: 0, address: '127.0.0.1/8' },
        { interface: 1, address: '10.0.0.2/24' },
      ],
    };
    const r04 = convertResult(r, '0.4.0');
    expect(r04.ips).toEqual([
      { version: '4', interface: 0, address: '127.0.0.1/8' },
      { version: '4', interface: 1, address: '10.0.0.2/24' },
    ]);
    expect(convertResult(r04, '1.1.0').ips).toEqual(r.ips);
    expect(convertResult(r, '0.2.0')).toEqual({ cniVersion: '0.2.0', ip4: { ip: '127.0.0.1/8' } });
  });

  it('carries dns to every version, and leaves it out when there is none', () => {
    for (const to of SUPPORTED_VERSIONS) {
      const r: Result1x = { cniVersion: '1.1.0', ips: [{ address: '10.0.0.2/24' }], dns: { domain: 'x', search: ['a'] } };
      expect(convertResult(r, to).dns).toEqual({ domain: 'x', search: ['a'] });
      const bare: Result1x = { cniVersion: '1.1.0', ips: [{ address: '10.0.0.2/24' }], dns: {} };
      expect(convertResult(bare, to)).not.toHaveProperty('dns');
    }
  });

  it('refuses an unsupported target version', () => {
    expectCniError(
      () => convertResult({ cniVersion: '1.0.0' }, '0.5.0'),
      ErrorCode.IncompatibleVersion,
      /unsupported CNI version "0.5.0"/,
    );
  });
});

describe('convertResult: lossless round trips', () => {
  const cases: [string, CniVersion, CniVersion][] = [
    ['1.1.0 <-> 1.0.0', '1.1.0', '1.0.0'],
    ['0.4.0 <-> 0.3.0', '0.4.0', '0.3.0'],
    ['0.4.0 <-> 0.3.1', '0.4.0', '0.3.1'],
    ['0.4.0 <-> 1.1.0', '0.4.0', '1.1.0'],
    ['0.3.1 <-> 1.0.0', '0.3.1', '1.0.0'],
    ['0.2.0 <-> 0.1.0', '0.2.0', '0.1.0'],
  ];
  it.each(cases)('%s', (_name, a, b) => {
    const src = parseResult(withVersion(a, source[famOf(a)]), 'r');
    expect(convertResult(convertResult(src, b), a)).toEqual(src);
  });

  it('0.2.0 -> 1.1.0 -> 0.2.0 when each route matches an IP family', () => {
    const src = withVersion('0.2.0', full020);
    for (const mid of ['0.3.0', '0.4.0', '1.0.0', '1.1.0'] as const) {
      expect(convertResult(convertResult(src, mid), '0.2.0')).toEqual(src);
    }
  });

  it('a 0.2.0 route filed under the wrong family is kept as is between 0.1.0 and 0.2.0', () => {
    const src: Result020 = { cniVersion: '0.1.0', ip4: { ip: '10.0.0.2/24', routes: [{ dst: '::/0' }] } };
    expect(convertResult(src, '0.2.0')).toEqual({ ...src, cniVersion: '0.2.0' });
  });
});

describe('resultToJSON', () => {
  it('prints 0.4.0 byte for byte as the Go static IPAM plugin does (including Go escaping of < >&)', () => {
    // Recorded from /usr/lib/cni/static (containernetworking-plugins 1.1.1) with cniVersion 0.4.0.
    const r = parseResult(
      {
        cniVersion: '0.4.0',
        ips: [
          { version: '4', address: '10.0.0.2/24', gateway: '10.0.0.1' },
          { version: '6', address: 'fd00::2/64', gateway: 'fd00::1' },
          { version: '4', address: '10.1.0.2/24' },
        ],
        routes: [{ dst: '0.0.0.0/0' }, { dst: '::/0', gw: 'fd00::9' }, { dst: '10.9.0.0/16', gw: '10.0.0.7' }],
        dns: { nameservers: ['10.0.0.53'], search: ['a<b&c'] },
      },
      'r',
    );
    const go = `{
    "cniVersion": "0.4.0",
    "ips": [
        {
            "version": "4",
            "address": "10.0.0.2/24",
            "gateway": "10.0.0.1"
        },
        {
            "version": "6",
            "address": "fd00::2/64",
            "gateway": "fd00::1"
        },
        {
            "version": "4",
            "address": "10.1.0.2/24"
        }
    ],
    "routes": [
        {
            "dst": "0.0.0.0/0"
        },
        {
            "dst": "::/0",
            "gw": "fd00::9"
        },
        {
            "dst": "10.9.0.0/16",
            "gw": "10.0.0.7"
        }
    ],
    "dns": {
        "nameservers": [
            "10.0.0.53"
        ],
        "search": [
            "a\\u003cb\\u0026c"
        ]
    }
}`;
    expect(resultToJSON(r)).toBe(go);
  });

  it('prints 0.1.0 byte for byte as the Go static plugin does, with "dns": {}', () => {
    const r = convertResult(
      parseResult(
        {
          cniVersion: '1.0.0',
          ips: [{ address: 'fd00::2/64', gateway: 'fd00::1' }],
          routes: [{ dst: '0.0.0.0/0' }, { dst: '::/0', gw: 'fd00::9' }],
        },
        'r',
      ),
      '0.1.0',
    );
    const go = `{
    "cniVersion": "0.1.0",
    "ip6": {
        "ip": "fd00::2/64",
        "gateway": "fd00::1",
        "routes": [
            {
                "dst": "::/0",
                "gw": "fd00::9"
            }
        ]
    },
    "dns": {}
}`;
    expect(resultToJSON(r)).toBe(go);
  });

  it('orders 1.x keys like the Go bridge plugin (interface index first in ips) and omits empty dns', () => {
    const r: Result1x = {
      dns: {},
      routes: [{ scope: 253, table: 0, dst: '10.0.0.0/8', priority: 0 }],
      ips: [{ gateway: '10.0.0.1', address: '10.0.0.2/24', interface: 2 }],
      interfaces: [{ pciID: 'p', sandbox: '/run/netns/c', mtu: 1500, mac: 'aa:bb:cc:dd:ee:ff', name: 'eth0', socketPath: '' }],
      cniVersion: '1.1.0',
    };
    expect(JSON.parse(resultToJSON(r))).toEqual({
      cniVersion: '1.1.0',
      interfaces: [{ name: 'eth0', mac: 'aa:bb:cc:dd:ee:ff', mtu: 1500, sandbox: '/run/netns/c', pciID: 'p' }],
      ips: [{ interface: 2, address: '10.0.0.2/24', gateway: '10.0.0.1' }],
      routes: [{ dst: '10.0.0.0/8', table: 0, scope: 253 }],
    });
    expect(resultToJSON(r).replace(/\s/g, '')).toBe(
      '{"cniVersion":"1.1.0","interfaces":[{"name":"eth0","mac":"aa:bb:cc:dd:ee:ff","mtu":1500,"sandbox":"/run/netns/c","pciID":"p"}],' +
        '"ips":[{"interface":2,"address":"10.0.0.2/24","gateway":"10.0.0.1"}],"routes":[{"dst":"10.0.0.0/8","table":0,"scope":253}]}',
    );
  });

  it('orders 0.4.0 ips as version, interface, address, gateway and prints "dns": {} when empty', () => {
    const r: Result040 = {
      cniVersion: '0.4.0',
      ips: [{ gateway: '10.0.0.1', address: '10.0.0.2/24', interface: 2, version: '4' }],
      interfaces: [{ sandbox: '/run/netns/c', mac: 'aa:bb:cc:dd:ee:ff', name: 'eth0' }],
    };
    expect(resultToJSON(r).replace(/\s/g, '')).toBe(
      '{"cniVersion":"0.4.0","interfaces":[{"name":"eth0","mac":"aa:bb:cc:dd:ee:ff","sandbox":"/run/netns/c"}],' +
        '"ips":[{"version":"4","interface":2,"address":"10.0.0.2/24","gateway":"10.0.0.1"}],"dns":{}}',
    );
  });
});

describe('parseResult', () => {
  it('reads each family into its typed shape', () => {
    const a = parseResult({ cniVersion: '0.2.0', ip4: { ip: '10.0.0.2/24' } }, 'r');
    const b = parseResult({ cniVersion: '0.3.0', ips: [{ version: '4', address: '10.0.0.2/24' }] }, 'r');
    const c = parseResult({ cniVersion: '1.0.0', ips: [{ address: '10.0.0.2/24' }] }, 'r');
    expect([isResult020(a), isResult040(b), isResult1x(c)]).toEqual([true, true, true]);
    expect([isResult1x(a), isResult020(b), isResult040(c)]).toEqual([false, false, false]);
  });

  it('canonicalises addresses and drops what Go would not print', () => {
    const r = parseResult(
      {
        cniVersion: '1.1.0',
        extra: 'ignored',
        interfaces: [{ name: 'eth0', mac: '', mtu: 0, sandbox: '' }],
        ips: [{ address: 'FD00:0:0::0002/064', gateway: 'FD00::0001', version: '6' }],
        routes: [{ dst: '::ffff:10.0.0.0/104', gw: '', mtu: 0, table: 0 }],
        dns: { nameservers: [], domain: '' },
      },
      'r',
    );
    expect(r).toEqual({
      cniVersion: '1.1.0',
      interfaces: [{ name: 'eth0' }],
      ips: [{ address: 'fd00::2/64', gateway: 'fd00::1' }],
      routes: [{ dst: '::ffff:10.0.0.0/104', table: 0 }],
    });
  });

  it('drops 1.1-only interface fields from a 0.x result, as libcni decoding does', () => {
    const r = parseResult({ cniVersion: '0.4.0', interfaces: [{ name: 'eth0', mtu: 1500, pciID: 'p' }] }, 'r');
    expect(r).toEqual({ cniVersion: '0.4.0', interfaces: [{ name: 'eth0' }] });
  });

  it('fills in a missing 0.4.0 ips[].version from the address', () => {
    const r = parseResult({ cniVersion: '0.4.0', ips: [{ address: 'fd00::2/64' }, { address: '10.0.0.2/8', version: '' }] }, 'r');
    expect(r).toEqual({
      cniVersion: '0.4.0',
      ips: [
        { version: '6', address: 'fd00::2/64' },
        { version: '4', address: '10.0.0.2/8' },
      ],
    });
  });

  it('treats null like absent', () => {
    const r = parseResult({ cniVersion: '1.0.0', interfaces: null, ips: [{ address: '10.0.0.2/24', gateway: null }], dns: null }, 'r');
    expect(r).toEqual({ cniVersion: '1.0.0', ips: [{ address: '10.0.0.2/24' }] });
  });

  it('without cniVersion uses versionIfMissing, else 0.1.0 (libcni create.CreateFromBytes)', () => {
    const body = { ip4: { ip: '10.0.0.2/24' }, ips: [{ address: '10.0.0.3/24', version: '4' }] };
    expect(parseResult(body, 'r')).toEqual({ cniVersion: '0.1.0', ip4: { ip: '10.0.0.2/24' } });
    expect(parseResult({ ...body, cniVersion: '' }, 'r', { versionIfMissing: '0.3.1' })).toEqual({
      cniVersion: '0.3.1',
      ips: [{ version: '4', address: '10.0.0.3/24' }],
    });
  });

  const bad: [string, unknown, RegExp][] = [
    ['not an object', [], /^invalid result: prevResult must be an object, got \[\]$/],
    ['cniVersion not a string', { cniVersion: 1 }, /prevResult\.cniVersion must be a string, got 1/],
    ['interfaces not an array', { cniVersion: '1.0.0', interfaces: {} }, /prevResult\.interfaces must be an array/],
    ['interface not an object', { cniVersion: '1.0.0', interfaces: ['eth0'] }, /prevResult\.interfaces\[0\] must be an object/],
    ['interface without name', { cniVersion: '1.0.0', interfaces: [{ mac: 'x' }] }, /prevResult\.interfaces\[0\]\.name must be a string, got undefined/],
    ['interface mtu negative', { cniVersion: '1.1.0', interfaces: [{ name: 'a', mtu: -1 }] }, /interfaces\[0\]\.mtu must be an unsigned integer/],
    ['mac not a string', { cniVersion: '0.3.0', interfaces: [{ name: 'a', mac: 5 }] }, /interfaces\[0\]\.mac must be a string/],
    ['address without prefix', { cniVersion: '1.0.0', ips: [{ address: '10.0.0.2' }] }, /prevResult\.ips\[0\]\.address must be an IP address in CIDR notation, got "10.0.0.2"/],
    ['address octet > 255', { cniVersion: '1.0.0', ips: [{ address: '10.0.0.1/24' }, { address: '10.0.0.256/24' }] }, /ips\[1\]\.address/],
    ['address missing', { cniVersion: '1.0.0', ips: [{ gateway: '10.0.0.1' }] }, /ips\[0\]\.address must be a string/],
    ['prefix too long', { cniVersion: '1.0.0', ips: [{ address: '10.0.0.1/33' }] }, /ips\[0\]\.address/],
    ['gateway not an IP', { cniVersion: '1.0.0', ips: [{ address: '10.0.0.2/24', gateway: '10.0.0.1/24' }] }, /ips\[0\]\.gateway must be an IP address, got "10.0.0.1\/24"/],
    ['interface index negative', { cniVersion: '1.0.0', ips: [{ address: '10.0.0.2/24', interface: -1 }] }, /ips\[0\]\.interface must be an unsigned integer/],
    ['interface index fractional', { cniVersion: '1.0.0', ips: [{ address: '10.0.0.2/24', interface: 1.5 }] }, /ips\[0\]\.interface/],
    ['interface index a string', { cniVersion: '0.4.0', ips: [{ address: '10.0.0.2/24', interface: '0' }] }, /ips\[0\]\.interface must be an unsigned integer, got "0"/],
    ['0.4.0 version unknown', { cniVersion: '0.4.0', ips: [{ address: '10.0.0.2/24', version: '5' }] }, /ips\[0\]\.version must be "4" or "6", got "5"/],
    ['0.4.0 version a number', { cniVersion: '0.4.0', ips: [{ address: '10.0.0.2/24', version: 4 }] }, /ips\[0\]\.version must be "4" or "6", got 4/],
    ['0.4.0 version mismatch', { cniVersion: '0.3.1', ips: [{ address: 'fd00::2/64', version: '4' }] }, /ips\[0\]\.version does not match address fd00::2\/64/],
    ['route without dst', { cniVersion: '1.0.0', routes: [{ gw: '10.0.0.1' }] }, /routes\[0\]\.dst must be a string/],
    ['route gw bad', { cniVersion: '1.0.0', routes: [{ dst: '0.0.0.0/0', gw: 'gateway' }] }, /routes\[0\]\.gw must be an IP address/],
    ['route table too big', { cniVersion: '1.1.0', routes: [{ dst: '0.0.0.0/0', table: 2 ** 32 }] }, /routes\[0\]\.table must be an unsigned integer/],
    ['route scope a string', { cniVersion: '1.1.0', routes: [{ dst: '0.0.0.0/0', scope: 'link' }] }, /routes\[0\]\.scope/],
    ['dns not an object', { cniVersion: '1.0.0', dns: ['8.8.8.8'] }, /prevResult\.dns must be an object/],
    ['nameserver not a string', { cniVersion: '1.0.0', dns: { nameservers: ['8.8.8.8', 8] } }, /prevResult\.dns\.nameservers\[1\] must be a string/],
    ['dns domain not a string', { cniVersion: '0.2.0', dns: { domain: ['a'] } }, /prevResult\.dns\.domain must be a string/],
    ['0.2.0 ip4 holding IPv6', { cniVersion: '0.2.0', ip4: { ip: 'fd00::2/64' } }, /prevResult\.ip4\.ip must be an IPv4 address/],
    ['0.2.0 ip6 holding IPv4', { cniVersion: '0.1.0', ip6: { ip: '10.0.0.2/24' } }, /prevResult\.ip6\.ip must be an IPv6 address/],
    ['0.2.0 ip4 not an object', { cniVersion: '0.2.0', ip4: '10.0.0.2/24' }, /prevResult\.ip4 must be an object/],
    ['0.2.0 route dst bad', { cniVersion: '0.2.0', ip4: { ip: '10.0.0.2/24', routes: [{ dst: 'default' }] } }, /prevResult\.ip4\.routes\[0\]\.dst must be an IP address in CIDR notation/],
  ];
  it.each(bad)('%s -> InvalidConfig (7) naming the field', (_name, json, msg) => {
    expectCniError(() => parseResult(json, 'prevResult'), ErrorCode.InvalidConfig, msg);
  });

  it('lets the caller choose the code for a bad shape (e.g. 6 for a plugin\'s stdout)', () => {
    expectCniError(
      () => parseResult({ cniVersion: '1.0.0', ips: 'x' }, 'result of bridge', { code: ErrorCode.DecodeFailure }),
      ErrorCode.DecodeFailure,
      /result of bridge\.ips must be an array/,
    );
  });

  it('refuses an unsupported cniVersion with IncompatibleVersion (1)', () => {
    expectCniError(() => parseResult({ cniVersion: '0.5.0' }, 'prevResult'), ErrorCode.IncompatibleVersion, /prevResult has unsupported CNI version "0.5.0"/);
    expectCniError(
      () => parseResult({}, 'prevResult', { versionIfMissing: '2.0.0' }),
      ErrorCode.IncompatibleVersion,
      /unsupported CNI version "2.0.0"/,
    );
  });

  it('truncates a huge offending value in the message', () => {
    let caught: unknown;
    try {
      parseResult({ cniVersion: '1.0.0', ips: [{ address: 'x'.repeat(10_000) }] }, 'r');
    } catch (e) {
      caught = e;
    }
    expect((caught as CniError).message.length).toBeLessThan(200);
  });
});

describe('prevResultFromConfig', () => {
  it('returns undefined without a prevResult (absent or null)', () => {
    expect(prevResultFromConfig({ cniVersion: '1.0.0', name: 'n' }, '1.0.0')).toBeUndefined();
    expect(prevResultFromConfig({ prevResult: null }, '1.0.0')).toBeUndefined();
  });

  it('takes the config version when the prevResult has none (libcni ParsePrevResult)', () => {
    const conf = { cniVersion: '0.4.0', prevResult: { ips: [{ address: '10.0.0.2/24', version: '4' }] } };
    expect(prevResultFromConfig(conf, '0.4.0')).toEqual({
      cniVersion: '0.4.0',
      ips: [{ version: '4', address: '10.0.0.2/24' }],
    });
  });

  it('reads a prevResult of another version than the config (we are laxer than libcni here)', () => {
    const conf = { cniVersion: '1.1.0', prevResult: { cniVersion: '0.2.0', ip4: { ip: '10.0.0.2/24' } } };
    const prev = prevResultFromConfig(conf, '1.1.0');
    expect(prev).toEqual({ cniVersion: '0.2.0', ip4: { ip: '10.0.0.2/24' } });
    // ...and the plugin writes it back in the config's version.
    expect(convertResult(prev!, '1.1.0')).toEqual({ cniVersion: '1.1.0', ips: [{ address: '10.0.0.2/24' }] });
  });

  it('reports a malformed prevResult as InvalidConfig (7)', () => {
    expectCniError(() => prevResultFromConfig({ prevResult: 'x' }, '1.0.0'), ErrorCode.InvalidConfig, /prevResult must be an object/);
    expectCniError(
      () => prevResultFromConfig({ prevResult: { cniVersion: '1.0.0', routes: [{}] } }, '1.0.0'),
      ErrorCode.InvalidConfig,
      /prevResult\.routes\[0\]\.dst/,
    );
  });
});

describe('ipaddr', () => {
  it.each([
    ['10.0.0.1', 4, '10.0.0.1'],
    ['0.0.0.0', 4, '0.0.0.0'],
    ['::', 6, '::'],
    ['::1', 6, '::1'],
    ['FD00:0000:0000:0000:0000:0000:0000:0001', 6, 'fd00::1'],
    ['2001:db8:0:0:1:0:0:1', 6, '2001:db8::1:0:0:1'],
    ['2001:db8:0:1:1:1:1:1', 6, '2001:db8:0:1:1:1:1:1'],
    ['1::', 6, '1::'],
    ['::ffff:10.0.0.1', 6, '::ffff:10.0.0.1'],
    ['::1.2.3.4', 6, '::102:304'],
  ])('parseIP(%s)', (s, family, text) => {
    expect(parseIP(s)).toEqual({ family, text });
  });

  it.each(['', '1.2.3', '1.2.3.4.5', '01.2.3.4', '256.0.0.1', '1::2::3', '1:2:3:4:5:6:7:8:9', '1:2:3:4:5:6:7::8', 'fe80::1%eth0', 'g::1', '::1.2.3', '1.2.3.4/24'])(
    'parseIP refuses %j',
    (s) => {
      expect(parseIP(s)).toBeUndefined();
    },
  );

  it('parseCIDR keeps host bits and normalises the prefix', () => {
    expect(parseCIDR('10.0.0.2/024')).toEqual({ family: 4, text: '10.0.0.2/24', prefix: 24 });
    expect(parseCIDR('fd00::2/128')).toEqual({ family: 6, text: 'fd00::2/128', prefix: 128 });
    for (const s of ['10.0.0.2', '10.0.0.2/33', 'fd00::/129', 'fd00::/-1', '10.0.0.2/24/1', 'fe80::1%eth0/64', '10.0.0.2/']) {
      expect(parseCIDR(s)).toBeUndefined();
    }
  });
});
