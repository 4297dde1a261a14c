// plugins-as/sdk/result.ts, config.ts and errors.ts, compiled with asc and run as a core module
// (test/fixtures/sdk/result.as). Result JSON is compared byte for byte with what we expect from
// Go's types/100 and with the host's Go-compatible printer (host/cni/result.ts).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseResult, resultToJSON } from '../../host/cni/result.ts';
import { type Driver, compileDriver } from '../fixtures/sdk/harness.ts';

let d: Driver;
beforeAll(async () => {
  d = await compileDriver('result');
});
afterAll(() => d?.dispose());

const call = (op: string, ...args: string[]) => d.call(op, args.join('\x01'));
/**
 * The host's rendering of a result (parsed as from a plugin, printed as to a runtime), compacted:
 * the host indents as Go's plugins do. Key order and escapes are kept.
 */
const viaHost = (json: string) =>
  JSON.stringify(JSON.parse(resultToJSON(parseResult(JSON.parse(json), 'result')))).replace(/[<>&\u2028\u2029]/g, (c) =>
    `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );

describe('result builder', () => {
  it.each([
    ['empty', '{"cniVersion":"1.1.0"}'],
    [
      'bridge',
      '{"cniVersion":"1.1.0","interfaces":[{"name":"cni0","mac":"0a:58:0a:01:00:01"},{"name":"veth1234","mac":"9e:1b:4a:07:1c:2d"},' +
        '{"name":"eth0","mac":"0a:58:0a:01:00:05","sandbox":"/var/run/netns/ctr"}],' +
        '"ips":[{"interface":2,"address":"10.1.0.5/16","gateway":"10.1.0.1"}],"routes":[{"dst":"0.0.0.0/0","gw":"10.1.0.1"}],' +
        '"dns":{"nameservers":["10.1.0.1"],"search":["svc.cluster.local"]}}',
    ],
    [
      'full',
      '{"cniVersion":"1.0.0","interfaces":[{"name":"eth0","mac":"aa:bb:cc:dd:ee:ff","mtu":9000,"sandbox":"/run/netns/x",' +
        '"socketPath":"/run/vhost.sock","pciID":"0000:00:1f.6"}],"ips":[{"interface":0,"address":"fd00::5/64"},{"address":"10.0.0.5/24"}],' +
        '"routes":[{"dst":"::/0","gw":"fd00::1","mtu":1400,"advmss":1360,"priority":100,"table":0,"scope":253},{"dst":"10.9.0.0/16"}],' +
        '"dns":{"domain":"example.com","options":["ndots:5"]}}',
    ],
    ['escapes', '{"cniVersion":"1.1.0","interfaces":[{"name":"we\\"ird\\\\\\u003cname\\u003e\\n"}]}'],
  ])('%s', (name, want) => {
    const got = call('build', name);
    expect(got).toBe(want);
    expect(viaHost(got)).toBe(got);
  });
});

describe('prevResult parsing', () => {
  it.each([
    '{"cniVersion":"1.1.0"}',
    '{"cniVersion":"1.1.0","interfaces":[{"name":"eth0","mac":"aa:bb:cc:dd:ee:ff","mtu":1500,"sandbox":"/x"}],"ips":[{"interface":0,"address":"10.0.0.5/24","gateway":"10.0.0.1"}],"routes":[{"dst":"0.0.0.0/0","gw":"10.0.0.1","table":0}],"dns":{"nameservers":["8.8.8.8"]}}',
    '{"cniVersion":"1.0.0","interfaces":[{"name":"a"},{"name":"b","socketPath":"/s","pciID":"p"}],"ips":[{"interface":1,"address":"fd00::2/64","gateway":"fd00::1"},{"address":"10.0.0.2/8"}],"routes":[{"dst":"::/0","mtu":1,"advmss":2,"priority":3,"table":4,"scope":5}],"dns":{"nameservers":["a","b"],"domain":"d","search":["s"],"options":["o"]}}',
  ])('round-trips %s', (json) => {
    expect(call('prev', json)).toBe(json);
    expect(viaHost(json)).toBe(json);
  });

  it('ignores unknown fields, null members and an empty dns, as Go does', () => {
    expect(call('prev', '{"cniVersion":"1.1.0","extra":{"x":[1]},"interfaces":null,"ips":[{"address":"10.0.0.5/24","gateway":null,"future":1}],"dns":{}}')).toBe(
      '{"cniVersion":"1.1.0","ips":[{"address":"10.0.0.5/24"}]}',
    );
  });

  it.each([
    ['{', 'ERR invalid prevResult JSON: unexpected end of input in object, expecting a member name at offset 1'],
    ['[]', 'ERR prevResult must be a JSON object'],
    ['{"cniVersion":1}', 'ERR prevResult.cniVersion must be a string, got number'],
    ['{"interfaces":{}}', 'ERR prevResult.interfaces must be an array, got object'],
    ['{"interfaces":[5]}', 'ERR prevResult.interfaces[0] must be an object, got number'],
    ['{"interfaces":[{"mac":"x"}]}', 'ERR prevResult.interfaces[0].name is required'],
    ['{"interfaces":[{"name":"a","mtu":"1500"}]}', 'ERR prevResult.interfaces[0].mtu must be an integer, got string'],
    ['{"ips":[{"address":"10.0.0.5"}]}', 'ERR prevResult.ips[0].address is not a valid CIDR: "10.0.0.5"'],
    ['{"ips":[{"interface":1,"address":"10.0.0.5/24"}]}', 'ERR prevResult.ips[0].interface refers to interface 1, but there are 0'],
    ['{"ips":[{"address":"10.0.0.5/24","gateway":"10.0.0"}]}', 'ERR prevResult.ips[0].gateway is not a valid IP address: "10.0.0"'],
    ['{"routes":[{"gw":"10.0.0.1"}]}', 'ERR prevResult.routes[0].dst is required'],
    ['{"routes":[{"dst":"0.0.0.0/0","gw":"x"}]}', 'ERR prevResult.routes[0].gw is not a valid IP address: "x"'],
    ['{"routes":[{"dst":"0.0.0.0/0","table":-1}]}', 'ERR prevResult.routes[0].table must be between 0 and 2147483647, got -1'],
    ['{"dns":{"nameservers":"8.8.8.8"}}', 'ERR prevResult.dns.nameservers must be an array of strings, got string'],
  ])('refuses %s', (json, want) => {
    expect(call('prev', json)).toBe(want);
  });
});

describe('network configuration', () => {
  it('reads the shared fields', () => {
    const conf = {
      cniVersion: '1.0.0',
      name: 'net',
      type: 'bridge',
      capabilities: { portMappings: true, ips: false },
      ipam: { type: 'host-local', subnet: '10.0.0.0/24' },
      dns: { nameservers: ['1.1.1.1'], domain: 'd' },
      runtimeConfig: { portMappings: [] },
      args: { cni: { x: 1 } },
      bridge: 'cni0',
    };
    expect(call('netconf', JSON.stringify(conf)).split('\n')).toEqual([
      'cniVersion=1.0.0',
      'name=net',
      'type=bridge',
      'caps=portMappings',
      'ipamType=host-local',
      'ipam={"type":"host-local","subnet":"10.0.0.0/24"}',
      'dns.nameservers=1.1.1.1',
      'dns.domain=d',
      'runtimeConfig={"portMappings":[]}',
      'args={"cni":{"x":1}}',
    ]);
  });

  it('leaves absent sections empty', () => {
    expect(call('netconf', '{"cniVersion":"1.1.0","name":"n","type":"null"}').split('\n')).toEqual([
      'cniVersion=1.1.0',
      'name=n',
      'type=null',
      'caps=',
      'ipamType=',
      'ipam=none',
      'dns.nameservers=',
      'dns.domain=',
      'runtimeConfig=none',
      'args=none',
    ]);
  });

  it.each([
    ['{"cniVersion":"1.0.0","name":"net","type":3}', 'ERR config.type must be a string, got number'],
    ['[1]', 'ERR network configuration must be a JSON object'],
    ['{"a":', 'ERR invalid network configuration JSON: unexpected end of input, expecting a value at offset 5'],
    ['{"ipam":"x"}', 'ERR config.ipam must be an object, got string'],
    ['{"ipam":{"type":["x"]}}', 'ERR config.ipam.type must be a string, got array'],
    ['{"capabilities":{"ips":"yes"}}', 'ERR config.capabilities.ips must be a boolean, got string'],
    ['{"dns":{"nameservers":["a",1]}}', 'ERR config.dns.nameservers[1] must be a string, got number'],
    ['{"runtimeConfig":[]}', 'ERR config.runtimeConfig must be an object, got array'],
  ])('refuses %s', (json, want) => {
    expect(call('netconf', json)).toBe(want);
  });

  it.each([
    ['string', 'bridge', '{"bridge":"cni0"}', 'OK cni0'],
    ['string', 'bridge', '{"bridge":null}', 'OK DEF'],
    ['string', 'bridge', '{}', 'OK DEF'],
    ['string', 'bridge', '{"bridge":5}', 'ERR config.bridge must be a string, got number'],
    ['require', 'bridge', '{}', 'ERR config.bridge is required'],
    ['require', 'bridge', '{"bridge":""}', 'ERR config.bridge must not be empty'],
    ['bool', 'isGateway', '{"isGateway":false}', 'OK false'],
    ['bool', 'isGateway', '{}', 'OK true'],
    ['bool', 'isGateway', '{"isGateway":"true"}', 'ERR config.isGateway must be a boolean, got string'],
    ['int', 'mtu', '{"mtu":1500}', 'OK 1500'],
    ['int', 'mtu', '{"mtu":1.5e3}', 'ERR config.mtu must be an integer, got 1.5e3'],
    ['int', 'mtu', '{"mtu":1500.5}', 'ERR config.mtu must be an integer, got 1500.5'],
    ['int', 'mtu', '{"mtu":"1500"}', 'ERR config.mtu must be an integer, got string'],
    ['mtu', 'mtu', '{"mtu":65535}', 'OK 65535'],
    ['mtu', 'mtu', '{"mtu":70000}', 'ERR config.mtu must be between 0 and 65535, got 70000'],
    ['mtu', 'mtu', '{"mtu":-1}', 'ERR config.mtu must be between 0 and 65535, got -1'],
    ['number', 'x', '{"x":1.25}', 'OK 1.25'],
    ['number', 'x', '{"x":true}', 'ERR config.x must be a number, got boolean'],
    ['strings', 's', '{"s":["a","b"]}', 'OK a,b'],
    ['strings', 's', '{"s":[]}', 'OK '],
    ['strings', 's', '{"s":"a"}', 'ERR config.s must be an array of strings, got string'],
    ['strings', 's', '{"s":["a",{}]}', 'ERR config.s[1] must be a string, got object'],
    ['ip', 'gw', '{"gw":"10.0.0.1"}', 'OK 10.0.0.1'],
    ['ip', 'gw', '{"gw":"FD00::1"}', 'OK fd00::1'],
    ['ip', 'gw', '{}', 'OK none'],
    ['ip', 'gw', '{"gw":"10.0.0.256"}', 'ERR config.gw is not a valid IP address: "10.0.0.256"'],
    ['cidr', 'subnet', '{"subnet":"10.0.0.0/24"}', 'OK 10.0.0.0/24'],
    ['cidr', 'subnet', '{"subnet":"10.0.0.0"}', 'ERR config.subnet is not a valid CIDR: "10.0.0.0"'],
    ['nested', 'ipam', '{"ipam":{"inner":"v"}}', 'OK v'],
    ['nested', 'ipam', '{"ipam":{"inner":1}}', 'ERR config.ipam.inner must be a string, got number'],
    ['nested', 'ipam', '{"ipam":[]}', 'ERR config.ipam must be an object, got array'],
    ['nested', 'ipam', '{}', 'OK DEF'],
    ['has', 'ipam', '{"ipam":null}', 'OK no'],
    ['has', 'ipam', '{"ipam":{}}', 'OK yes'],
  ])('%s %s of %s', (kind, key, json, want) => {
    expect(call('field', kind, key, json)).toBe(want);
  });
});

describe('CNI_ARGS', () => {
  it.each([
    ['IgnoreUnknown=1;K8S_POD_NAME=web;K8S_POD_NAME=api', 'K8S_POD_NAME', '=api n=3 ignoreUnknown=1'],
    ['IgnoreUnknown=true;A=1', 'B', 'null n=2 ignoreUnknown=1'],
    ['IgnoreUnknown=0;A=1', 'A', '=1 n=2 ignoreUnknown=0'],
    ['A=B=C;;D', 'A', '=B=C n=2 ignoreUnknown=0'],
    ['A=B=C;;D', 'D', '= n=2 ignoreUnknown=0'],
    ['K=', 'K', '= n=1 ignoreUnknown=0'],
    ['', 'X', 'null n=0 ignoreUnknown=0'],
  ])('%s: %s', (args, key, want) => {
    expect(call('cniargs', args, key)).toBe(want);
  });
});

describe('a request, as a handler reads it (plugin.ts)', () => {
  const conf = '{"cniVersion":"1.1.0","name":"net","type":"t","ipam":{"type":"host-local","subnet":"10.1.0.0/16"}}';

  it('parses config, CNI_ARGS and prevResult, and extends the prevResult', () => {
    expect(call('request', conf, '{"cniVersion":"1.1.0","ips":[{"address":"10.1.0.5/16"}]}', 'IgnoreUnknown=1;K8S_POD_NAME=web').split('\n')).toEqual([
      'name=net ifname=eth0 ctr=ctr has=1',
      'pod=web',
      'subnet=10.1.0.0/16',
      'prev+route={"cniVersion":"1.1.0","ips":[{"address":"10.1.0.5/16"}],"routes":[{"dst":"10.99.0.0/16"}]}',
      'ok=1',
    ]);
  });

  it('works without prevResult and arguments', () => {
    expect(call('request', '{"name":"n","ipam":{"subnet":"x"}}', '-', '').split('\n')).toEqual([
      'name=n ifname=eth0 ctr=ctr has=1',
      'pod=none',
      'subnet=none ipamErr=config.ipam.subnet is not a valid CIDR: "x"',
      'prev=none',
      'ok=1',
    ]);
  });

  it('answers code 7 for a bad config or prevResult', () => {
    expect(call('request', '{"name":1}', '-', '')).toBe('ERR 7 config.name must be a string, got number');
    expect(call('request', 'nope', '-', '')).toBe("ERR 7 invalid network configuration JSON: unexpected character 'o' in literal 'null' at offset 1");
    expect(call('request', conf, '{"ips":{}}', '')).toBe('ERR 7 prevResult.ips must be an array, got object');
  });
});

describe('errors', () => {
  it('numbers codes as libcni and formats errors', () => {
    expect(call('errors').split('\n')).toEqual([
      '1 7 11 50 999',
      'CNI error 7: bad mtu',
      'CNI error 5: ADD: no bridge (link cni0 not found)',
      '101 mine []',
      'wit 7 bad mtu [] / 5 ADD: no bridge [link cni0 not found]',
      'fail err=1 code=6 msg=cannot decode',
    ]);
  });
});
