// The built binary (dist/cni-wasm.cjs) exec'd as a runtime execs it, inside a throwaway "node"
// namespace with a throwaway container namespace, running each runtime fixture as
// `<type>.wasm` from CNI_WASM_PLUGIN_DIR: the answer on stdout, the exit code, the time it
// took, and both namespaces unchanged afterwards.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BINARY } from '../binary/run-binary.ts';
import { cleanup, makeNetns, type Netns } from '../harness/netns.ts';
import { buildFixture, FIXTURES } from '../fixtures/hostile/build.ts';

let tmp: string;
let plugins: string;
let policy: string;
let node: Netns;
let ctr: Netns;
let before: string;

const BUDGET_MS = 400;

/** What a namespace looks like: links, addresses, routes, rules, net sysctls that plugins touch. */
function snapshot(ns: Netns): string {
  const strip = (v: unknown): unknown => JSON.parse(JSON.stringify(v, (k, x) => (k === 'stats64' || k === 'stats' ? undefined : x)));
  return JSON.stringify({
    links: strip(ns.ipJson('-d', 'link', 'show')),
    addrs: ns.ipJson('addr', 'show'),
    routes: ns.ipJson('route', 'show', 'table', 'all'),
    rules: ns.ipJson('rule', 'show'),
    forward: ns.run('cat', ['/proc/sys/net/ipv4/ip_forward']),
  });
}

interface Answer {
  status: number | null;
  signal: NodeJS.Signals | null;
  json: Record<string, unknown> | undefined;
  stdout: string;
  stderr: string;
  ms: number;
}

function run(type: string, command = 'ADD', conf: Record<string, unknown> = {}, extraEnv: Record<string, string> = {}): Answer {
  const env = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    CNI_COMMAND: command,
    CNI_CONTAINERID: 'ctr-runtime-1',
    CNI_NETNS: ctr.path,
    CNI_IFNAME: 'eth0',
    CNI_PATH: tmp,
    CNI_WASM_PLUGIN_DIR: plugins,
    CNI_WASM_POLICY: policy,
    CNI_WASM_LIMITS: JSON.stringify({ callTimeoutMs: BUDGET_MS }),
    CNI_LOG_LEVEL: 'silent',
    ...extraEnv,
  };
  const input = JSON.stringify({ cniVersion: '1.0.0', name: 'rtnet', type, ...conf });
  const t = performance.now();
  const r = node.spawn(process.execPath, [BINARY], { input, env, timeoutMs: 30_000 });
  const ms = performance.now() - t;
  let json: Record<string, unknown> | undefined;
  try {
    json = JSON.parse(r.stdout) as Record<string, unknown>;
  } catch {
    json = undefined;
  }
  return { status: r.status, signal: r.signal, json, stdout: r.stdout, stderr: r.stderr, ms };
}

function expectError(a: Answer, code: number, msg: RegExp): void {
  expect(a.signal, a.stderr).toBeNull();
  expect(a.status, a.stdout + a.stderr).toBe(1);
  expect(a.json, a.stdout).toBeDefined();
  expect(a.json!.cniVersion).toBe('1.0.0');
  expect(a.json!.code, a.stdout).toBe(code);
  expect(String(a.json!.msg)).toMatch(msg);
  // every runtime error names the plugin file
  expect(String(a.json!.details ?? '')).toContain(plugins);
  expect(a.stdout + a.stderr).not.toMatch(/\n\s+at /);
}

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'cniw-rt-'));
  plugins = join(tmp, 'plugins');
  const { mkdirSync } = await import('node:fs');
  mkdirSync(plugins);
  for (const f of FIXTURES) writeFileSync(join(plugins, `${f}.wasm`), await buildFixture(f));
  policy = join(tmp, 'policy.json');
  writeFileSync(policy, JSON.stringify({ version: 1 }));
  node = makeNetns('rt-node');
  ctr = makeNetns('rt-ctr');
  before = snapshot(node) + snapshot(ctr);
});

afterAll(() => {
  // The hostile plugins must have left both namespaces exactly as they were.
  if (node && ctr) expect(snapshot(node) + snapshot(ctr)).toBe(before);
  cleanup();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe('a well-behaved plugin through the binary', () => {
  it('ADD answers the result converted to the config version; DEL/CHECK/STATUS/GC exit 0', () => {
    const a = run('null', 'ADD', { cniVersion: '0.4.0' });
    expect(a.status, a.stdout + a.stderr).toBe(0);
    expect(a.json).toEqual({ cniVersion: '0.4.0', interfaces: [{ name: 'eth0' }], dns: {} });
    for (const c of ['DEL', 'CHECK', 'STATUS', 'GC']) {
      const conf = { cniVersion: '1.1.0', ...(c === 'CHECK' ? { prevResult: { cniVersion: '1.1.0', interfaces: [{ name: 'eth0' }] } } : {}) };
      const r = run('null', c, conf);
      expect(r.status, `${c}: ${r.stdout}${r.stderr}`).toBe(0);
      expect(r.stdout).toBe('');
    }
  });
});

describe('hostile plugins through the binary', () => {
  it('endless loop: CNI error naming the plugin and the budget, answered within about the budget', () => {
    const a = run('loop');
    expectError(a, 102, new RegExp(`^plugin "loop": stopped after its wall-clock budget of ${BUDGET_MS} ms \\(ADD\\)$`));
    expect(a.ms).toBeGreaterThanOrEqual(BUDGET_MS);
    // process start + load + budget; generous for a loaded machine, far below the 30 s kill
    expect(a.ms).toBeLessThan(BUDGET_MS + 3000);
  });

  it('endless start function and endless cabi_realloc', () => {
    expectError(run('start-loop'), 102, /^plugin "start-loop": stopped after its wall-clock budget of \d+ ms \(instantiation\)$/);
    expectError(run('realloc-loop'), 102, /^plugin "realloc-loop": stopped after its wall-clock budget/);
  });

  it('unbounded memory.grow: capped, then trapped', () => {
    const a = run('grow', 'ADD', {}, { CNI_WASM_LIMITS: JSON.stringify({ callTimeoutMs: 5000, memoryMiB: 16 }) });
    expectError(a, 101, /^plugin "grow": trapped: unreachable \(ADD\)$/);
    expect(String(a.json!.details)).toMatch(/linear memory 15\.\d MiB of its 16 MiB cap/);
  });

  it('a 4 GiB maximum is capped (the plugin runs and reports its refused grow); a 128 MiB initial memory is refused', () => {
    const h = run('huge-max');
    expect(h.status).toBe(1);
    expect(h.json).toEqual({ cniVersion: '1.0.0', code: 150, msg: 'grow refused' });
    expectError(run('min-above-cap'), 100, /^plugin "min-above-cap": refused: its memory 0 \(pages\) starts at 2048, above the cap of 1024$/);
  });

  it('a 100 MB result is refused by the result cap', () => {
    expectError(run('big-result'), 103, /^plugin "big-result": its result of 104857600 bytes exceeds the cap of 1048576 bytes \(ADD\)$/);
  });

  it('traps carry the trap message', () => {
    expectError(run('trap'), 101, /^plugin "trap": trapped: unreachable \(ADD\)$/);
    expectError(run('stack'), 101, /^plugin "stack": trapped: stack overflow/);
    expectError(run('bad-pointer'), 101, /^plugin "bad-pointer": broke the canonical ABI: handler\.add: result: .* is outside guest memory/);
  });

  it('a result that is not JSON', () => {
    expectError(run('bad-json'), 104, /^plugin "bad-json": its ADD result is not JSON/);
  });

  it('foreign imports, a core module, a second module and a WASI adapter are refused at load', () => {
    expectError(run('evil-import'), 100, /^plugin "evil-import": refused: it imports "cni:plugin\/evil@0\.1\.0", which the host does not provide$/);
    expectError(run('wasi-import'), 100, /^plugin "wasi-import": refused: it imports "wasi:cli\/environment@0\.2\.0"/);
    expectError(run('core-only'), 100, /^plugin "core-only": refused: it is a core WebAssembly module, not a component$/);
    expectError(run('second-module'), 100, /^plugin "second-module": refused: core module #1 is a second user module/);
    expectError(run('wasi-adapter'), 100, /^plugin "wasi-adapter": refused: core module #1 imports "wasi_snapshot_preview1"\."fd_write"/);
  });

  it('a log flood is cut at maxLogBytes for the invocation, with one warning, and the plugin still answers', () => {
    const logFile = join(tmp, 'flood.log');
    const a = run('log-flood', 'ADD', {}, { CNI_LOG_LEVEL: 'debug', CNI_LOG_FILE: logFile, CNI_WASM_LIMITS: JSON.stringify({ maxLogBytes: 4500 }) });
    expect(a.status, a.stdout + a.stderr).toBe(0);
    const lines = readFileSync(logFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    const fromPlugin = lines.filter((l) => l.source === 'plugin');
    expect(fromPlugin.length).toBe(4);
    expect(fromPlugin.every((l) => l.msg === 'x'.repeat(1000))).toBe(true);
    expect(lines.filter((l) => /reached its log limit \(maxLogBytes 4500\)/.test(String(l.msg))).length).toBe(1);
  });

  it('the policy decides the limits: a per-plugin callTimeoutMs applies without CNI_WASM_LIMITS', () => {
    const p = join(tmp, 'policy-loop.json');
    writeFileSync(p, JSON.stringify({ version: 1, plugins: { loop: { grant: {}, limits: { callTimeoutMs: 150 } } } }));
    const a = run('loop', 'ADD', {}, { CNI_WASM_POLICY: p, CNI_WASM_LIMITS: '' });
    expectError(a, 102, /budget of 150 ms/);
  });
});
