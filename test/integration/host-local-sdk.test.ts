// The SDK modules added for host-local (plugins-as/sdk/gostrings.ts, iprange.ts, resolvconf.ts)
// and host-local's range and configuration rules, compiled with asc and run as a core module
// (test/fixtures/host-local/sdk.as). Expected values follow Go (strings, strconv.Quote,
// encoding/json key matching) and the reference host-local's messages.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Driver, compileDriver } from '../fixtures/host-local/harness.ts';

let d: Driver;
beforeAll(async () => {
  d = await compileDriver('sdk');
}, 120_000);
afterAll(() => d?.dispose());

describe('gostrings', () => {
  it.each([
    ['  a b \t\r\n', '[a b]'],
    ['\u00a0\u2003x\u3000', '[x]'],
    ['', '[]'],
    ['\u0085\v\f', '[]'],
    ['c1\r\neth0\n', '[c1\r\neth0]'],
  ])('trimSpace(%j)', (s, want) => expect(d.call('trim', s)).toBe(want));

  it('fields splits on runs of any white space', () => {
    expect(d.call('fields', ' nameserver\t10.0.0.1  \u00a0x ')).toBe('nameserver|10.0.0.1|x');
    expect(d.call('fields', '   ')).toBe('');
  });

  it.each([
    ['subnet', 'subnet', 'match'],
    ['SUBNET', 'subnet', 'match'],
    ['Subnet', 'subnet', 'match'],
    ['\u017fubnet', 'subnet', 'match'], // LONG S folds to s, as in Go
    ['ran\u212aes', 'rankes', 'match'], // KELVIN SIGN folds to k
    ['subnets', 'subnet', 'no'],
    ['sub_net', 'subnet', 'no'],
  ])('equalFoldKey(%j, %j)', (k, n, want) => expect(d.call('fold', k, n)).toBe(want));

  it('memberFold takes the last member that folds equal, null as absent', () => {
    expect(d.call('member', '{"subnet":"a","Subnet":"b"}', 'subnet')).toBe('"b"');
    expect(d.call('member', '{"SUBNET":"a"}', 'subnet')).toBe('"a"');
    expect(d.call('member', '{"subnet":null}', 'subnet')).toBe('null');
    expect(d.call('member', '{"x":1}', 'subnet')).toBe('null');
    expect(d.call('member', '[1]', 'subnet')).toBe('null');
  });

  it.each([
    ['K8S_POD_NAME=web', '"K8S_POD_NAME=web"'],
    ['a"b\\c', '"a\\"b\\\\c"'],
    ['tab\there\n', '"tab\\there\\n"'],
    ['\u0001\u007f', '"\\x01\\x7f"'],
    ['caf\u00e9', '"caf\u00e9"'],
  ])('quoteGo(%j)', (s, want) => expect(d.call('quote', s)).toBe(want));
});

describe('iprange', () => {
  it.each([
    ['10.0.0.1', '10.0.0.1 v4'],
    ['::ffff:10.0.0.1', '10.0.0.1 v4'],
    ['fd00::1', 'fd00::1 v6'],
    ['::1.2.3.4', '::102:304 v6'],
  ])('canonicalIP(%s)', (ip, want) => expect(d.call('canon', ip)).toBe(want));

  it.each([
    ['10.0.0.1', '10.0.0.254', '254'],
    ['10.0.0.5', '10.0.0.5', '1'],
    ['10.0.0.6', '10.0.0.5', '0'],
    ['0.0.0.0', '255.255.255.255', '4294967296'],
    ['fd00::1', 'fd00::ffff:ffff:ffff:ffff', '18446744073709551615'],
    ['fd00::', 'fd00::ffff:ffff:ffff:ffff', '18446744073709551615'], // 2^64 saturates
    ['fd00::', 'fd00:0:0:1::', '18446744073709551615'],
    ['fd00::ffff:ffff:ffff:fffe', 'fd00:0:0:1::1', '4'], // carries across the 64-bit halves
    ['10.0.0.1', 'fd00::1', '0'],
  ])('rangeSize(%s, %s)', (a, b, want) => expect(d.call('size', a, b)).toBe(want));

  it('contains, overlaps, nextWrap, toString', () => {
    expect(d.call('contains', '10.0.0.10', '10.0.0.20', '::ffff:10.0.0.15')).toBe('true');
    expect(d.call('contains', '10.0.0.10', '10.0.0.20', '10.0.0.21')).toBe('false');
    expect(d.call('contains', '10.0.0.10', '10.0.0.20', '::a00:f')).toBe('false');
    expect(d.call('overlaps', '10.0.0.10', '10.0.0.20', '10.0.0.20', '10.0.0.30')).toBe('true');
    expect(d.call('overlaps', '10.0.0.10', '10.0.0.20', '10.0.0.21', '10.0.0.30')).toBe('false');
    expect(d.call('overlaps', '10.0.0.10', '10.0.0.20', '::', '::ffff:ffff:ffff')).toBe('false');
    expect(d.call('nextWrap', '10.0.0.10', '10.0.0.12', '10.0.0.11')).toBe('10.0.0.12');
    expect(d.call('nextWrap', '10.0.0.10', '10.0.0.12', '10.0.0.12')).toBe('10.0.0.10');
    expect(d.call('nextWrap', 'fd00::1', 'fd00::ffff:ffff:ffff:ffff', 'fd00::ffff:ffff:ffff:ffff')).toBe('fd00::1');
    expect(d.call('rangeText', 'fd00::1', 'fd00::ff')).toBe('fd00::1-fd00::ff');
  });
});

describe('resolvconf', () => {
  it('parses as the reference host-local does', () => {
    const text = [
      '# generated',
      '; also a comment',
      'nameserver 10.0.0.53   # trailing text is a field, ignored',
      'nameserver\tfd00::53',
      'nameserver',
      'domain example.com',
      'domain example.org',
      'search a.example b.example',
      'search c.example',
      'options ndots:5 timeout:2',
      'sortlist 10.0.0.0/8',
      '   ',
      'options rotate\r',
    ].join('\n');
    expect(JSON.parse(d.call('resolv', text))).toEqual({
      nameservers: ['10.0.0.53', 'fd00::53'],
      domain: 'example.org',
      search: ['a.example', 'b.example', 'c.example'],
      options: ['ndots:5', 'timeout:2', 'rotate'],
    });
    expect(d.call('resolv', '')).toBe('{}');
  });
});

describe('host-local ranges', () => {
  it.each([
    [['10.0.0.0/24', '', '', ''], '10.0.0.1-10.0.0.254 gw 10.0.0.1 size 254'],
    [['10.0.0.0/30', '', '', ''], '10.0.0.1-10.0.0.2 gw 10.0.0.1 size 2'],
    [['fd00::/64', '', '', ''], 'fd00::1-fd00::ffff:ffff:ffff:ffff gw fd00::1 size 18446744073709551615'],
    [['fd00::/126', '', '', ''], 'fd00::1-fd00::3 gw fd00::1 size 3'],
    [['10.0.0.0/8', '10.1.0.0', '10.1.0.9', '10.0.0.254'], '10.1.0.0-10.1.0.9 gw 10.0.0.254 size 10'],
    [['10.0.0.0/24', '::ffff:10.0.0.5', '', ''], '10.0.0.5-10.0.0.254 gw 10.0.0.1 size 250'],
    [['10.0.0.0/31', '', '', ''], 'error: Network 10.0.0.0/31 too small to allocate from'],
    [['::ffff:10.0.0.0/127', '', '', ''], 'error: Network 10.0.0.0/31 too small to allocate from'],
    [['::ffff:10.0.0.0/120', '', '', ''], 'error: IPNet IP and Mask version mismatch'],
    [['10.0.0.9/24', '', '', ''], 'error: Network has host bits set. For a subnet mask of length 24 the network address is 10.0.0.0'],
    [['10.0.0.0/24', '10.0.0.9', '10.0.0.8', ''], 'error: RangeStart 10.0.0.9 not in network 10.0.0.0/24'],
    [['10.0.0.0/24', '', '10.0.0.0', ''], 'error: RangeEnd 10.0.0.0 not in network 10.0.0.0/24'],
    [['', '10.0.0.1', '', ''], 'error: IP <nil> not v4 nor v6'],
  ])('%j', (a, want) => expect(d.call('range', ...a)).toBe(want));
});

describe('host-local configuration', () => {
  const cfg = (o: object) => JSON.stringify({ cniVersion: '1.0.0', name: 'n', type: 'host-local', ...o });
  it('reads keys as Go does (any case, the last wins) and orders range sets runtime, legacy, ranges', () => {
    expect(
      d.call(
        'config',
        cfg({
          IPAM: { SUBNET: '10.1.0.0/24', Ranges: [[{ Subnet: 'fd00::/64' }]], DataDir: '/x', dataDir: '/y', routes: [{ dst: '0.0.0.0/0' }] },
          runtimeConfig: { ipRanges: [[{ subnet: '10.2.0.0/24' }]], ips: ['fd00::5'] },
          args: { cni: { ips: ['10.1.0.7/24'] } },
        }),
        'IgnoreUnknown=true;IP=10.2.0.9;X=1',
      ),
    ).toBe('set 10.2.0.1-10.2.0.254; set 10.1.0.1-10.1.0.254; set fd00::1-fd00::ffff:ffff:ffff:ffff; ip 10.2.0.9; ip 10.1.0.7; ip fd00::5; route 0.0.0.0/0; dataDir /y');
  });
  it.each([
    [cfg({ ipam: null }), '', "error 7: IPAM config missing 'ipam' key"],
    [cfg({ ipam: { subnet: 5 } }), '', 'error 7: config.ipam.subnet must be a string, got number'],
    [cfg({ ipam: { subnet: '10.0.0.0/24', routes: [{ gw: '10.0.0.1' }] } }), '', 'error 7: config.ipam.routes[0].dst is required'],
    [cfg({ ipam: { subnet: '10.0.0.0/24' } }), 'IP=1.2.3.4=5', 'error 4: ARGS: invalid pair "IP=1.2.3.4=5"'],
    [cfg({ ipam: { subnet: '10.0.0.0/24' } }), 'IgnoreUnknown=maybe', 'error 4: ARGS: error parsing value of pair "IgnoreUnknown=maybe": boolean unmarshal error: invalid input maybe'],
    [cfg({ ipam: { subnet: '10.0.0.0/24' } }), 'A=1;IgnoreUnknown=0', 'error 4: ARGS: unknown args ["A=1"]'],
    [cfg({ ipam: { subnet: '10.0.0.0/24' }, args: { cni: { ips: [null] } } }), '', 'error 7: cannot understand ip: IP <nil> not v4 nor v6'],
  ])('%s %s', (c, a, want) => expect(d.call('config', c, a)).toBe(want));
});
