// The loader and instance in-process, with a fake host API: the request as the guest sees it,
// host calls, and every hostile fixture contained with the right CNI error.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { CniError } from '../../host/cni/errors.ts';
import { RuntimeErrorCode } from '../../host/runtime/errors.ts';
import { createWasmLoader, loadWasmPluginSync, witRequest } from '../../host/runtime/loader.ts';
import { WitResultError } from '../../host/runtime/generated/abi.ts';
import { buildFixture } from '../fixtures/hostile/build.ts';
import { fakeHooks, pluginDir, request, type FakeOptions } from '../fixtures/hostile/fake-host.ts';

const NAMES = ['null', 'echo', 'log', 'sysctl', 'initialize', 'loop', 'start-loop', 'realloc-loop', 'grow', 'huge-max', 'min-above-cap', 'big-result', 'trap', 'stack', 'bad-json', 'bad-pointer', 'evil-import'];
let dir: string;

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

beforeAll(async () => {
  const files: Record<string, Uint8Array> = {};
  for (const n of NAMES) files[n] = await buildFixture(n);
  dir = pluginDir(files);
});

function load(type: string, opts: FakeOptions = {}) {
  const { hooks, state } = fakeHooks(opts);
  return { plugin: loadWasmPluginSync(hooks, type, join(dir, `${type}.wasm`)), state };
}

function failure(f: () => unknown): CniError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(CniError);
    return e as CniError;
  }
  throw new Error('expected a CniError');
}

describe('running a plugin', () => {
  it('ADD of the null plugin answers its result; the other commands nothing', () => {
    const { plugin, state } = load('null');
    expect(plugin.manifest).toBe('{"version":1}');
    expect(plugin.run(request('ADD'))).toEqual({ cniVersion: '1.1.0', interfaces: [{ name: 'eth0' }] });
    for (const c of ['DEL', 'CHECK', 'STATUS', 'GC'] as const) expect(plugin.run(request(c))).toBeUndefined();
    expect(state.closed).toBe(5);
  });

  it('is registered through createWasmLoader as an async Plugin', async () => {
    const { hooks } = fakeHooks();
    const p = await createWasmLoader(hooks)('null', join(dir, 'null.wasm'));
    expect(p.source).toBe(join(dir, 'null.wasm'));
    expect(await p.run(request('ADD'))).toMatchObject({ cniVersion: '1.1.0' });
  });

  it('the guest receives the config text, container id, ifname, args and has-container exactly', () => {
    const { plugin } = load('echo');
    const req = request('ADD', { cniVersion: '1.0.0', bridge: 'br-ü' });
    expect(plugin.run(req)).toEqual(JSON.parse(req.configText));
    const check = failure(() => plugin.run(request('CHECK', {}, { containerId: 'ctr-ä1', ifname: 'net1' })));
    expect([check.code, check.message, check.details]).toEqual([160, 'ctr-ä1', 'net1']);
    const gc = failure(() => plugin.run(request('GC', {}, { args: [['K8S_POD_NAME', 'pod'], ['B', '2']] })));
    expect([gc.code, gc.message, gc.details]).toEqual([172, 'K8S_POD_NAME', 'pod']);
    // has-container: the runtime gave a path that exists (here any path), or none
    expect(failure(() => plugin.run(request('DEL', {}, { netns: '/proc/self/ns/net' }))).code).toBe(162);
    expect(failure(() => plugin.run(request('DEL', {}, { netns: '/var/run/netns/gone-away' }))).code).toBe(161);
  });

  it('a prevResult of any version reaches the plugin in the 1.x form', () => {
    const { plugin } = load('echo');
    const prev = { cniVersion: '0.3.1', interfaces: [{ name: 'eth0' }], ips: [{ version: '4', address: '10.1.0.2/24', interface: 0 }] };
    const e = failure(() => plugin.run(request('DEL', { cniVersion: '0.3.1', prevResult: prev })));
    expect(JSON.parse(e.message)).toEqual({ cniVersion: '1.1.0', interfaces: [{ name: 'eth0' }], ips: [{ address: '10.1.0.2/24', interface: 0 }] });
    expect(failure(() => plugin.run(request('DEL'))).message).toBe('none');
    expect(witRequest(request('DEL')).prevResult).toBeUndefined();
  });

  it('host calls reach the host API: log.write', () => {
    const { plugin, state } = load('log');
    plugin.run(request('ADD'));
    expect(state.logs).toEqual([
      { level: 'info', msg: 'hello from wasm' },
      { level: 'warn', msg: 'hello from wasm' },
      { level: 'error', msg: 'hello from wasm' },
    ]);
  });

  it('host results are lowered into the guest, host errors too', () => {
    const ok = load('sysctl');
    expect(ok.plugin.run(request('ADD'))).toEqual({ cniVersion: '1.1.0' });
    expect(ok.state.sysctlCalls).toEqual([{ ns: 'host', key: 'net.ipv4.ip_forward' }]);
    const denied = load('sysctl', {
      host: {
        sysctl: {
          get: () => {
            throw new WitResultError({ tag: 'permission-denied', val: 'sysctl net.ipv4.ip_forward in host' });
          },
        },
      },
    });
    const e = failure(() => denied.plugin.run(request('ADD')));
    expect([e.code, e.message]).toEqual([183, 'sysctl net.ipv4.ip_forward in host']);
  });

  it('calls _initialize once after instantiation', () => {
    expect(load('initialize').plugin.run(request('ADD'))).toEqual({ cniVersion: '1.1.0' });
  });

  it('a CniError thrown by a host function ends the call with that error', () => {
    const { plugin } = load('log', {
      host: {
        log: {
          write: () => {
            throw new CniError(11, 'try again later');
          },
        },
      },
    });
    expect(failure(() => plugin.run(request('ADD'))).code).toBe(11);
  });

  it('a fault in the host API itself is an internal error (999), not blamed on the plugin', () => {
    const { plugin } = load('log', { host: { log: { write: () => void JSON.parse('{') } } });
    const e = failure(() => plugin.run(request('ADD')));
    expect(e.code).toBe(999);
  });
});

describe('hostile plugins are contained', () => {
  it('endless loop: stopped after the budget with a CNI error naming plugin and budget; abort hook called', () => {
    const { plugin, state } = load('loop', { limits: { callTimeoutMs: 200 } });
    const t = performance.now();
    const e = failure(() => plugin.run(request('ADD')));
    const took = performance.now() - t;
    expect(e.code).toBe(RuntimeErrorCode.PluginTimeout);
    expect(e.message).toBe('plugin "loop": stopped after its wall-clock budget of 200 ms (ADD)');
    expect(e.details).toContain(join(dir, 'loop.wasm'));
    expect(took).toBeGreaterThanOrEqual(190);
    expect(took).toBeLessThan(2000);
    expect(state.aborted).toBe(1);
    expect(state.closed).toBe(1);
    // the process lives on and runs the next plugin normally
    expect(load('null').plugin.run(request('ADD'))).toMatchObject({ cniVersion: '1.1.0' });
  });

  it('endless start function and endless cabi_realloc are within the budget too', () => {
    const s = failure(() => load('start-loop', { limits: { callTimeoutMs: 100 } }).plugin.run(request('ADD')));
    expect([s.code, s.message]).toEqual([102, 'plugin "start-loop": stopped after its wall-clock budget of 100 ms (instantiation)']);
    const r = failure(() => load('realloc-loop', { limits: { callTimeoutMs: 100 } }).plugin.run(request('ADD')));
    expect([r.code, r.message]).toEqual([102, 'plugin "realloc-loop": stopped after its wall-clock budget of 100 ms (ADD)']);
  });

  it('unbounded memory.grow: capped at the limit, then the trap is reported with the memory use', () => {
    const e = failure(() => load('grow', { limits: { memoryMiB: 8 } }).plugin.run(request('ADD')));
    expect(e.code).toBe(RuntimeErrorCode.PluginTrap);
    expect(e.message).toMatch(/^plugin "grow": trapped: unreachable/);
    // 1 page + 7 grows of 16 pages = 113 pages (7.06 MiB); the 8th grow would pass 8 MiB
    expect(e.details).toMatch(/linear memory 7\.1 MiB of its 8 MiB cap/);
  });

  it('a 4 GiB maximum is lowered to the cap: the plugin runs, its big grow fails', () => {
    const e = failure(() => load('huge-max').plugin.run(request('ADD')));
    expect([e.code, e.message]).toEqual([150, 'grow refused']);
  });

  it('with a cap above what it asks for, the same plugin grows during the call and still answers', () => {
    // Memory grown while the guest runs detaches the buffer the glue looked at before the call:
    // lifting the result must use the grown memory (every AssemblyScript plugin that allocates
    // in ADD depends on this).
    expect(load('huge-max', { limits: { memoryMiB: 256 } }).plugin.run(request('ADD'))).toEqual({ cniVersion: '1.1.0' });
  });

  it('an initial memory above the cap is refused before it runs', () => {
    const e = failure(() => load('min-above-cap').plugin.run(request('ADD')));
    expect(e.code).toBe(RuntimeErrorCode.PluginRefused);
    expect(e.message).toMatch(/starts at 2048, above the cap of 1024/);
  });

  it('a 100 MB result is refused by the result cap without the host allocating it', () => {
    const { plugin } = load('big-result');
    const before = process.memoryUsage().arrayBuffers;
    const e = failure(() => plugin.run(request('ADD')));
    const grew = process.memoryUsage().arrayBuffers - before;
    expect(e.code).toBe(RuntimeErrorCode.PluginLimit);
    expect(e.message).toBe('plugin "big-result": its result of 104857600 bytes exceeds the cap of 1048576 bytes (ADD)');
    expect(grew).toBeLessThan(16 * 1024 * 1024);
  });

  it('the result cap is configurable', () => {
    const e = failure(() => load('null', { limits: { maxResultBytes: 10 } }).plugin.run(request('ADD')));
    expect(e.message).toMatch(/result of 53 bytes exceeds the cap of 10 bytes/);
  });

  it('a 100 MB argument to a host call is refused by the per-call lift cap; a bad enum is an ABI violation', () => {
    const { plugin, state } = load('log');
    const big = failure(() => plugin.run(request('DEL')));
    expect(big.code).toBe(RuntimeErrorCode.PluginLimit);
    expect(big.message).toMatch(/^plugin "log": passed too much data to the host: log\.write: string: lifting 104857600 more bytes exceeds the limit of 1048576 bytes per call/);
    const bad = failure(() => plugin.run(request('CHECK')));
    expect(bad.code).toBe(RuntimeErrorCode.PluginTrap);
    expect(bad.message).toMatch(/broke the canonical ABI: log\.write: invalid level discriminant 7/);
    expect(state.logs).toEqual([]);
  });

  it('traps: unreachable and stack overflow, with the trap message', () => {
    const t = failure(() => load('trap').plugin.run(request('ADD')));
    expect([t.code, t.message]).toEqual([101, 'plugin "trap": trapped: unreachable (ADD)']);
    expect(t.details).toMatch(/wasm stack: wasm-function\[\d+\]:0x[0-9a-f]+/);
    const s = failure(() => load('stack').plugin.run(request('ADD')));
    expect(s.code).toBe(101);
    expect(s.message).toMatch(/trapped: stack overflow/);
  });

  it('a result that is not JSON, and a result pointer outside memory', () => {
    const j = failure(() => load('bad-json').plugin.run(request('ADD')));
    expect(j.code).toBe(RuntimeErrorCode.PluginBadResult);
    expect(j.message).toMatch(/^plugin "bad-json": its ADD result is not JSON/);
    const p = failure(() => load('bad-pointer').plugin.run(request('ADD')));
    expect(p.code).toBe(RuntimeErrorCode.PluginTrap);
    expect(p.message).toMatch(/broke the canonical ABI: handler\.add: result: .* is outside guest memory/);
  });

  it('an interface the host does not provide is refused when the plugin is loaded', () => {
    const e = failure(() => load('evil-import'));
    expect(e.code).toBe(RuntimeErrorCode.PluginRefused);
    expect(e.message).toMatch(/imports "cni:plugin\/evil@0\.1\.0"/);
  });

  it('a file above maxModuleBytes is refused before it is read', () => {
    const e = failure(() => load('null', { env: { CNI_WASM_LIMITS: '{"maxModuleBytes":100}' } }));
    expect(e.message).toMatch(/its file is \d+ bytes, above the cap of 100 bytes/);
  });
});
