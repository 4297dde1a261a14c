// plugins-as/sdk/ip.ts, compiled with asc and run as a core module (test/fixtures/sdk/ip.as).
// Expected texts follow Go's net package (ParseIP, ParseCIDR, IP.String, IPNet.Contains).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCIDR, parseIP } from '../../host/cni/ipaddr.ts';
import { type Driver, compileDriver } from '../fixtures/sdk/harness.ts';

let d: Driver;
beforeAll(async () => {
  d = await compileDriver('ip');
});
afterAll(() => d?.dispose());

const call = (op: string, ...args: string[]) => d.call(op, args.join('\x01'));
const ZERO = '0'.repeat(16);

describe('parse and format', () => {
  // input, toString() (Go's net.IP.String), toStringKeep6(), family, 128-bit value in hex
  it.each([
    ['1.2.3.4', '1.2.3.4', '1.2.3.4', 'v4', `${ZERO}0000ffff01020304`],
    ['0.0.0.0', '0.0.0.0', '0.0.0.0', 'v4', `${ZERO}0000ffff00000000`],
    ['255.255.255.255', '255.255.255.255', '255.255.255.255', 'v4', `${ZERO}0000ffffffffffff`],
    ['::', '::', '::', 'v6', '0'.repeat(32)],
    ['::1', '::1', '::1', 'v6', `${'0'.repeat(31)}1`],
    ['1::', '1::', '1::', 'v6', `0001${'0'.repeat(28)}`],
    // IPv4-mapped: Go prints the dotted quad (its To4() succeeds)
    ['::ffff:1.2.3.4', '1.2.3.4', '::ffff:1.2.3.4', 'v6', `${ZERO}0000ffff01020304`],
    ['::FFFF:102:304', '1.2.3.4', '::ffff:1.2.3.4', 'v6', `${ZERO}0000ffff01020304`],
    ['0:0:0:0:0:ffff:0:0', '0.0.0.0', '::ffff:0.0.0.0', 'v6', `${ZERO}0000ffff00000000`],
    // IPv4-compatible (deprecated) and other embedded forms print in hex
    ['::1.2.3.4', '::102:304', '::102:304', 'v6', `${ZERO}0000000001020304`],
    ['1:2:3:4:5:6:1.2.3.4', '1:2:3:4:5:6:102:304', '1:2:3:4:5:6:102:304', 'v6', '00010002000300040005000601020304'],
    ['64:ff9b::192.0.2.33', '64:ff9b::c000:221', '64:ff9b::c000:221', 'v6', '0064ff9b0000000000000000c0000221'],
    // RFC 5952: lowercase, no leading zeros, the first longest run of >= 2 zero groups
    ['2001:0DB8:0000:0000:0000:0000:0000:0001', '2001:db8::1', '2001:db8::1', 'v6', '20010db8000000000000000000000001'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1', '2001:db8::1:0:0:1', 'v6', '20010db8000000000001000000000001'],
    ['2001:db8:0:1:0:0:0:1', '2001:db8:0:1::1', '2001:db8:0:1::1', 'v6', '20010db8000000010000000000000001'],
    ['1:0:0:2:0:0:0:3', '1:0:0:2::3', '1:0:0:2::3', 'v6', '00010000000000020000000000000003'],
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1', 'v6', '20010db8000000010001000100010001'],
    ['1:2:3:4:5:6:7::', '1:2:3:4:5:6:7:0', '1:2:3:4:5:6:7:0', 'v6', '00010002000300040005000600070000'],
    ['::2:3:4:5:6:7:8', '0:2:3:4:5:6:7:8', '0:2:3:4:5:6:7:8', 'v6', '00000002000300040005000600070008'],
    ['fe80::1', 'fe80::1', 'fe80::1', 'v6', `fe80${'0'.repeat(27)}1`],
    ['ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', 'v6', 'f'.repeat(32)],
  ])('%s', (input, text, keep6, family, bits) => {
    expect(call('parse', input)).toBe(`${text} ${keep6} ${family} ${bits}`);
  });

  it.each([
    '',
    '1.2.3',
    '1.2.3.4.5',
    '1.2.3.4.',
    '.1.2.3.4',
    '256.1.1.1',
    '01.2.3.4', // leading zeros are refused (octal or decimal?)
    '1.2.3.04',
    '1..2.3',
    '1.2.3.-4',
    ' 1.2.3.4',
    '1.2.3.4 ',
    '0x1.2.3.4',
    'fe80::1%eth0', // zones are refused, as net.ParseIP does
    'fe80::1%1',
    '1:2:3:4:5:6:7:8::',
    '1:2:3:4:5:6:7:8:9',
    '1:2:3:4:5:6:7',
    ':1::',
    '1::2:',
    '1:::2',
    '1::2::3',
    ':::',
    '12345::',
    'g::',
    '1:2:3:4:5:6:7:1.2.3.4',
    '::1.2.3',
    '::1.2.3.4:5',
    '::01.2.3.4',
    '[::1]',
    '::1/128',
  ])('refuses %j', (input) => {
    expect(call('parse', input)).toBe('null');
  });

  it('agrees with the host (host/cni/ipaddr.ts) on validity and text', () => {
    const inputs = [
      '1.2.3.4', '10.0.0.1', '::', '::1', '::ffff:10.1.2.3', '::10.1.2.3', '2001:DB8::A', '1:0:0:2:0:0:0:3',
      '0:0:1:0:0:1:0:0', 'fe80::1%eth0', '01.2.3.4', '1:2:3:4:5:6:7::', '::2:3:4:5:6:7:8', '1::2::3',
      'abcd:ef01:2345:6789:abcd:ef01:2345:6789', '1:2:3:4:5:6:1.2.3.4', '1.2.3.4.5', '',
    ];
    for (const s of inputs) {
      const host = parseIP(s);
      const out = call('parse', s);
      if (!host) {
        expect(out, s).toBe('null');
        continue;
      }
      const [text, keep6, family] = out.split(' ');
      expect(host.text, s).toBe(family === 'v4' ? text : keep6);
      expect(`v${host.family}`, s).toBe(family);
    }
  });

  it('builds addresses from numbers', () => {
    expect(call('fromU32', '167772161')).toBe('10.0.0.1 10.0.0.255 2001:db8::1');
  });
});

describe('CIDR', () => {
  it.each([
    ['10.1.2.3/24', '10.1.2.3/24 net=10.1.2.0 last=10.1.2.255 mask=255.255.255.0 netcidr=10.1.2.0/24 hostbits=8'],
    ['0.0.0.0/0', '0.0.0.0/0 net=0.0.0.0 last=255.255.255.255 mask=0.0.0.0 netcidr=0.0.0.0/0 hostbits=32'],
    ['10.1.2.3/32', '10.1.2.3/32 net=10.1.2.3 last=10.1.2.3 mask=255.255.255.255 netcidr=10.1.2.3/32 hostbits=0'],
    ['10.1.2.3/31', '10.1.2.3/31 net=10.1.2.2 last=10.1.2.3 mask=255.255.255.254 netcidr=10.1.2.2/31 hostbits=1'],
    ['172.16.5.4/12', '172.16.5.4/12 net=172.16.0.0 last=172.31.255.255 mask=255.240.0.0 netcidr=172.16.0.0/12 hostbits=20'],
    ['10.0.0.0/08', '10.0.0.0/8 net=10.0.0.0 last=10.255.255.255 mask=255.0.0.0 netcidr=10.0.0.0/8 hostbits=24'],
    ['fd00::1:2/64', 'fd00::1:2/64 net=fd00:: last=fd00::ffff:ffff:ffff:ffff mask=ffff:ffff:ffff:ffff:: netcidr=fd00::/64 hostbits=64'],
    ['::/0', '::/0 net=:: last=ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff mask=:: netcidr=::/0 hostbits=128'],
    ['fd00::1/128', 'fd00::1/128 net=fd00::1 last=fd00::1 mask=ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff netcidr=fd00::1/128 hostbits=0'],
    ['2001:db8::ab/121', '2001:db8::ab/121 net=2001:db8::80 last=2001:db8::ff mask=ffff:ffff:ffff:ffff:ffff:ffff:ffff:ff80 netcidr=2001:db8::80/121 hostbits=7'],
    ['2001:db8:1:2::/63', '2001:db8:1:2::/63 net=2001:db8:1:2:: last=2001:db8:1:3:ffff:ffff:ffff:ffff mask=ffff:ffff:ffff:fffe:: netcidr=2001:db8:1:2::/63 hostbits=65'],
    // a mapped address keeps its IPv6 family and prefix; the CIDR text keeps "::ffff:"
    ['::ffff:1.2.3.4/120', '::ffff:1.2.3.4/120 net=1.2.3.0 last=1.2.3.255 mask=ffff:ffff:ffff:ffff:ffff:ffff:ffff:ff00 netcidr=::ffff:1.2.3.0/120 hostbits=8'],
  ])('%s', (input, out) => {
    expect(call('cidr', input)).toBe(out);
  });

  it.each(['10.0.0.0', '10.0.0.0/', '10.0.0.0/33', '10.0.0.0/-1', '10.0.0.0/+8', '10.0.0.0/8 ', '10.0.0.0/ 8', '10.0.0.0/8/8', '::/129', 'fe80::1%eth0/64', '/24', '10.0.0/24', '10.0.0.0/1e1', '10.0.0.0/99999999'])(
    'refuses %j',
    (input) => {
      expect(call('cidr', input)).toBe('null');
    },
  );

  it('agrees with the host on CIDR text', () => {
    for (const s of ['10.1.2.3/24', 'fd00::1/64', '::ffff:1.2.3.4/120', '0.0.0.0/0', '::/0', '2001:DB8::/32', '10.0.0.0/33', 'x/1']) {
      const host = parseCIDR(s);
      const out = call('cidr', s);
      expect(host ? host.text : 'null', s).toBe(out === 'null' ? 'null' : out.split(' ')[0]);
    }
  });

  it.each([
    ['10.1.2.0/24', '10.1.2.0', 'true'],
    ['10.1.2.0/24', '10.1.2.255', 'true'],
    ['10.1.2.0/24', '10.1.3.0', 'false'],
    ['10.1.2.0/24', '10.1.1.255', 'false'],
    ['10.1.2.3/32', '10.1.2.3', 'true'],
    ['10.1.2.3/32', '10.1.2.4', 'false'],
    ['0.0.0.0/0', '255.255.255.255', 'true'],
    // families as Go's IPNet.Contains: v4 addresses (also mapped ones) only in v4 prefixes
    ['10.1.2.0/24', '::ffff:10.1.2.7', 'true'],
    ['0.0.0.0/0', 'fd00::1', 'false'],
    ['::/0', '10.0.0.1', 'false'],
    ['::/0', '::ffff:10.0.0.1', 'false'],
    ['::/0', 'fd00::1', 'true'],
    ['::ffff:10.1.2.0/120', '10.1.2.9', 'true'],
    ['::ffff:10.1.2.0/120', '10.1.3.9', 'false'],
    ['fd00::/64', 'fd00::ffff:1', 'true'],
    ['fd00::/64', 'fd00:0:0:1::1', 'false'],
    ['fd00::/8', 'fdff:ffff::1', 'true'],
    ['fd00::/8', 'fe00::', 'false'],
    ['fd00::1/128', 'fd00::1', 'true'],
  ])('%s contains %s: %s', (cidr, ip, want) => {
    expect(call('contains', cidr, ip)).toBe(want);
  });

  it.each([
    ['10.0.0.0/8', '10.1.0.0/16', 'true'],
    ['10.1.0.0/16', '10.0.0.0/8', 'true'],
    ['10.0.0.0/16', '10.1.0.0/16', 'false'],
    ['10.0.0.5/24', '10.0.0.200/30', 'true'],
    ['10.0.0.0/8', 'fd00::/8', 'false'],
    ['fd00::/16', 'fd00:1::/32', 'true'],
    ['fd00::/16', 'fd01::/16', 'false'],
  ])('%s overlaps %s: %s', (a, b, want) => {
    expect(call('overlaps', a, b)).toBe(want);
  });
});

describe('arithmetic', () => {
  it.each([
    ['10.0.0.255', '1', '10.0.1.0'],
    ['10.0.0.0', '-1', '9.255.255.255'],
    ['255.255.255.255', '1', 'null'],
    ['255.255.255.254', '1', '255.255.255.255'],
    ['0.0.0.0', '-1', 'null'],
    ['0.0.0.0', '4294967295', '255.255.255.255'],
    ['0.0.0.0', '4294967296', 'null'],
    ['1.0.0.0', '-16777216', '0.0.0.0'],
    ['1.0.0.0', '-16777217', 'null'],
    ['10.0.0.1', '9223372036854775807', 'null'],
    ['10.0.0.1', '-9223372036854775808', 'null'],
    ['10.0.0.1', '0', '10.0.0.1'],
    ['::', '1', '::1'],
    ['::ffff:ffff:ffff:ffff', '1', '0:0:0:1::'], // carry into the upper 64 bits
    ['::1:0:0:0:0', '-1', '::ffff:ffff:ffff:ffff'], // borrow from them
    ['fd00::', '9223372036854775807', 'fd00::7fff:ffff:ffff:ffff'],
    ['fd00::ffff:ffff:ffff:ffff', '-9223372036854775808', 'fd00::7fff:ffff:ffff:ffff'],
    ['ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', '1', 'null'],
    ['ffff:ffff:ffff:ffff:ffff:ffff:ffff:fff0', '15', 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff'],
    ['::', '-1', 'null'],
    ['::1', '-9223372036854775808', 'null'],
    // a mapped address is IPv6 family: it counts on past the IPv4 range
    ['::ffff:255.255.255.255', '1', '::1:0:0:0'],
  ])('%s + %s = %s', (ip, n, want) => {
    expect(call('add', ip, n)).toBe(want);
  });

  it('steps with next/prev and stops at the ends of the family', () => {
    expect(call('next', '10.1.2.255')).toBe('10.1.3.0');
    expect(call('prev', '10.1.3.0')).toBe('10.1.2.255');
    expect(call('next', '255.255.255.255')).toBe('null');
    expect(call('prev', '0.0.0.0')).toBe('null');
    expect(call('prev', '::')).toBe('null');
    expect(call('next', 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe')).toBe('ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff');
    expect(call('next', 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff')).toBe('null');
  });

  it.each([
    ['10.0.0.2', '10.0.0.10', '-1'],
    ['10.0.0.10', '10.0.0.2', '1'],
    ['10.0.0.2', '10.0.0.2', '0'],
    ['1.2.3.4', '::ffff:1.2.3.4', '0'], // the same 16 bytes, as Go's IP.Equal
    ['::1', '1.2.3.4', '-1'], // 16-byte order puts ::1 before ::ffff:1.2.3.4
    ['fe80::1', 'fe80::', '1'],
    ['8000::', '7fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', '1'], // unsigned comparison
    ['::8000:0:0:0', '::7fff:ffff:ffff:ffff', '1'],
  ])('compare(%s, %s) = %s', (a, b, want) => {
    expect(call('compare', a, b)).toBe(want);
  });

  it('tells equal bits from the same family', () => {
    expect(call('equals', '1.2.3.4', '::ffff:1.2.3.4')).toBe('equal');
    expect(call('equals', '1.2.3.4', '1.2.3.4')).toBe('equal same');
    expect(call('equals', '::1', '::2')).toBe('different');
  });

  it.each([
    ['10.0.0.1', '10.0.1.0', '255'],
    ['10.0.1.0', '10.0.0.1', '-255'],
    ['0.0.0.0', '255.255.255.255', '4294967295'],
    ['::', '::7fff:ffff:ffff:ffff', '9223372036854775807'],
    ['::', '::8000:0:0:0', 'overflow'],
    ['::ffff:ffff:ffff:ffff', '0:0:0:1::', '1'],
    ['0:0:0:1::', '::ffff:ffff:ffff:ffff', '-1'],
    ['::', 'ffff::', 'overflow'],
    ['ffff::', '::', 'overflow'],
  ])('distance %s -> %s = %s', (a, b, want) => {
    expect(call('distance', a, b)).toBe(want);
  });
});

describe('masks', () => {
  it.each([
    ['0', '4', '0.0.0.0'],
    ['1', '4', '128.0.0.0'],
    ['24', '4', '255.255.255.0'],
    ['31', '4', '255.255.255.254'],
    ['32', '4', '255.255.255.255'],
    ['40', '4', '255.255.255.255'], // clamped
    ['0', '6', '::'],
    ['1', '6', '8000::'],
    ['63', '6', 'ffff:ffff:ffff:fffe::'],
    ['64', '6', 'ffff:ffff:ffff:ffff::'],
    ['65', '6', 'ffff:ffff:ffff:ffff:8000::'],
    ['127', '6', 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe'],
    ['128', '6', 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff'],
  ])('/%s (v%s) = %s', (prefix, fam, mask) => {
    expect(call('mask', prefix, fam)).toBe(mask);
  });

  it.each([
    ['255.255.255.0', '24'],
    ['0.0.0.0', '0'],
    ['255.255.255.255', '32'],
    ['128.0.0.0', '1'],
    ['255.0.255.0', '-1'],
    ['0.255.255.255', '-1'],
    ['255.255.255.253', '-1'],
    ['ffff:ffff:ffff:ffff::', '64'],
    ['ffff:ffff:ffff:ffff:8000::', '65'],
    ['ffff:ffff:ffff:ffff:0:8000::', '-1'],
    ['::', '0'],
    ['ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', '128'],
    ['::1', '-1'],
  ])('prefix of %s = %s', (mask, prefix) => {
    expect(call('prefix', mask)).toBe(prefix);
  });

  it('clears host bits', () => {
    expect(call('masked', '10.1.2.3', '16')).toBe('10.1.0.0');
    expect(call('masked', '10.1.2.3', '0')).toBe('0.0.0.0');
    expect(call('masked', 'fd00::ffff', '120')).toBe('fd00::ff00');
    expect(call('masked', 'fd00:1:2:3:4:5:6:7', '64')).toBe('fd00:1:2:3::');
  });
});

describe('address properties', () => {
  it.each([
    ['127.0.0.1', 'is4 loopback to4=127.0.0.1 to16=::ffff:127.0.0.1 u32=2130706433'],
    ['::1', 'loopback to4=null to16=::1 u32=0'],
    ['224.0.0.1', 'is4 multicast to4=224.0.0.1 to16=::ffff:224.0.0.1 u32=3758096385'],
    ['ff02::1', 'multicast to4=null to16=ff02::1 u32=0'],
    ['169.254.1.1', 'is4 linklocal to4=169.254.1.1 to16=::ffff:169.254.1.1 u32=2851995905'],
    ['fe80::1', 'linklocal to4=null to16=fe80::1 u32=0'],
    ['febf::1', 'linklocal to4=null to16=febf::1 u32=0'],
    ['fec0::1', 'to4=null to16=fec0::1 u32=0'],
    ['0.0.0.0', 'is4 unspecified to4=0.0.0.0 to16=::ffff:0.0.0.0 u32=0'],
    ['::', 'unspecified to4=null to16=:: u32=0'],
    ['::ffff:1.2.3.4', 'is4 mapped to4=1.2.3.4 to16=::ffff:1.2.3.4 u32=16909060'],
    ['::ffff:0.0.0.0', 'is4 mapped unspecified to4=0.0.0.0 to16=::ffff:0.0.0.0 u32=0'],
    ['fd00::1', 'to4=null to16=fd00::1 u32=0'],
  ])('%s', (ip, want) => {
    expect(call('props', ip)).toBe(want);
  });
});
