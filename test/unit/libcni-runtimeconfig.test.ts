// What each plugin of a list is given (libcni buildOneConfig / injectRuntimeConfig).
import { describe, expect, it } from 'vitest';
import { buildOneConfig, pluginConfFromBytes, type AnyResult, type RuntimeConf } from '../../host/cni/libcni/index.ts';

const rt = (capabilityArgs?: Record<string, unknown>): RuntimeConf => ({ containerId: 'c', netns: '/n', ifName: 'eth0', args: [], capabilityArgs });
const plugin = (o: Record<string, unknown>) => pluginConfFromBytes(Buffer.from(JSON.stringify(o)));
const build = (o: Record<string, unknown>, r: RuntimeConf | undefined, prev?: AnyResult) =>
  JSON.parse(buildOneConfig('listname', '1.0.0', plugin(o), prev, r).bytes.toString()) as Record<string, unknown>;

describe('buildOneConfig', () => {
  it("copies the list's name and cniVersion over the plugin's own", () => {
    const c = build({ type: 'bridge', name: 'mine', cniVersion: '0.3.1' }, rt());
    expect(c.name).toBe('listname');
    expect(c.cniVersion).toBe('1.0.0');
  });

  it('injects prevResult only when there is one', () => {
    const prev: AnyResult = { cniVersion: '1.0.0', ips: [{ address: '10.0.0.2/24' }] };
    expect(build({ type: 'a' }, rt(), prev).prevResult).toEqual(prev);
    // Before 1.0.0 Go always prints "dns", so the prevResult a plugin gets carries it.
    const old: AnyResult = { cniVersion: '0.4.0', ips: [{ version: '4', address: '10.0.0.2/24' }] };
    expect(build({ type: 'a' }, rt(), old).prevResult).toEqual({ ...old, dns: {} });
    expect('prevResult' in build({ type: 'a' }, rt())).toBe(false);
  });

  it('gives runtimeConfig only the capability args the plugin declares as true', () => {
    const caps = { portMappings: [{ hostPort: 8080, containerPort: 80, protocol: 'tcp' }], bandwidth: { ingressRate: 1000 }, ips: ['10.0.0.9/24'], mac: null };
    const c = build({ type: 'portmap', capabilities: { portMappings: true, bandwidth: false, dns: true, mac: true } }, rt(caps));
    expect(c.runtimeConfig).toEqual({ portMappings: caps.portMappings, mac: null });
  });

  it("adds no runtimeConfig when nothing applies, and leaves the plugin's own alone then", () => {
    expect('runtimeConfig' in build({ type: 'a', capabilities: { portMappings: true } }, rt({ bandwidth: {} }))).toBe(false);
    expect(build({ type: 'a', runtimeConfig: { own: 1 } }, rt({ own: 2 })).runtimeConfig).toEqual({ own: 1 });
    expect(build({ type: 'a', capabilities: { x: true } }, undefined).runtimeConfig).toBeUndefined();
  });

  it("replaces the plugin's own runtimeConfig when capability args apply", () => {
    const c = build({ type: 'a', capabilities: { ips: true }, runtimeConfig: { other: true } }, rt({ ips: ['10.1.1.1/24'] }));
    expect(c.runtimeConfig).toEqual({ ips: ['10.1.1.1/24'] });
  });

  it('writes the config with sorted keys, as Go re-marshals it', () => {
    const bytes = buildOneConfig('n', '1.0.0', plugin({ type: 'a', zeta: 1, alpha: 2 }), undefined, rt()).bytes.toString();
    expect(bytes).toBe('{"alpha":2,"cniVersion":"1.0.0","name":"n","type":"a","zeta":1}');
  });
});
