#!/usr/bin/env node
// `npm run bench` (as root): cni-wasm against the Go reference plugins, side by side, and
// where cni-wasm's time goes. Everything runs in throwaway network namespaces
// (bench/lib/netns.mjs); docs/benchmark.md explains how to run and read it.
//
//   node bench/run.mjs [--quick] [--runs N] [--warmup N] [--only a,b] [--out DIR] [--name NAME]
//                      [--concurrency N] [--scale 1,100,500] [--scale-runs N] [--ref-dir DIR]
//
// Scenarios
//   null         the fixed cost of the host: the null plugin's ADD/DEL against `node -e 0`,
//                VERSION, and the Go plugins' own VERSION (their floor)
//   seed         the seed's bridge config (ipMasq on), cniVersion 0.4.0
//   bridge-v4    bridge, IPv4, no masquerade
//   dual-stack   bridge, IPv4 + IPv6 ranges, no masquerade
//   vxlan        vxlan with peers (cni-wasm only: the reference plugins have no vxlan)
//   concurrency  N simultaneous ADDs from separate processes onto one bridge, then N DELs
//   scale        ADD latency with 1, 100 and 500 containers already on the bridge
//   resident     the seed config through the host's invoke() called again and again in one
//                process: what a resident host (no Node start-up per call) would pay
// Latency runs alternate (reference, cni-wasm, reference, cni-wasm, ...) and ratios are taken
// pair by pair so that machine noise cancels. A third, traced cni-wasm run per iteration
// (CNI_WASM_TRACE=1, host/trace.ts) gives the phase breakdown; untraced runs give the latency.
//
// --quick runs every scenario once (concurrency 10, scale 1 and 10) so CI keeps the benchmark
// working; it asserts nothing about speed. Output: <out>/<name>.json, <name>.md, <name>-*.svg
// (default bench/results/<date>, or bench/results/quick for --quick).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describeFailure, runConcurrently, runInBatches, timedRun } from './lib/exec.mjs';
import { describeMachine, loadAverage } from './lib/machine.mjs';
import * as netns from './lib/netns.mjs';
import { writeReport } from './lib/report.mjs';
import { buildResidentWorker } from './lib/resident.mjs';
import { pairDiffs, pairRatios, roundStats, stats } from './lib/stats.mjs';
import { meanHostCalls, meanKernel, meanPhases, phasesOf, readTrace } from './lib/trace.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

// ------------------------------------------------------------------ options

function parseOptions(argv) {
  const o = { quick: false, runs: undefined, warmup: undefined, only: undefined, out: join(root, 'bench', 'results'), name: undefined };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '--quick') o.quick = true;
    else if (a === '--runs') o.runs = Number(val());
    else if (a === '--warmup') o.warmup = Number(val());
    else if (a === '--only') o.only = val().split(',');
    else if (a === '--out') o.out = resolve(val());
    else if (a === '--name') o.name = val();
    else if (a === '--concurrency') o.concurrency = Number(val());
    else if (a === '--scale') o.scale = val().split(',').map(Number);
    else if (a === '--scale-runs') o.scaleRuns = Number(val());
    else if (a === '--ref-dir') o.refDir = val();
    else if (a === '--help' || a === '-h') {
      const lines = readFileSync(fileURLToPath(import.meta.url), 'utf8').split('\n').slice(1);
      process.stdout.write(`${lines.slice(0, lines.findIndex((l) => !l.startsWith('//'))).map((l) => l.replace(/^\/\/ ?/, '')).join('\n')}\n`);
      process.exit(0);
    } else throw new Error(`unknown option ${a} (see --help)`);
  }
  o.runs ??= o.quick ? 1 : 30;
  o.warmup ??= o.quick ? 0 : 2;
  o.concurrency ??= o.quick ? 10 : 50;
  o.concurrencyRounds = o.quick ? 1 : 3;
  o.scale ??= o.quick ? [1, 10] : [1, 100, 500];
  o.scaleRuns ??= o.quick ? 1 : 15;
  o.refDir ??= '/usr/lib/cni';
  // Quick runs are smoke tests: their files (bench/results/quick*) are not committed.
  o.name ??= o.quick ? 'quick' : new Date().toISOString().slice(0, 10);
  return o;
}

const O = parseOptions(process.argv.slice(2));
const want = (id) => !O.only || O.only.includes(id);

if (process.getuid?.() !== 0) {
  console.error('bench/run.mjs needs root (network namespaces): sudo npm run bench');
  process.exit(2);
}
const ENTRY = join(root, 'dist', 'cni-wasm.cjs');
const PLUGINS = join(root, 'dist', 'plugins');
if (!existsSync(ENTRY)) {
  console.error('dist/cni-wasm.cjs is missing: npm run build');
  process.exit(2);
}

// ------------------------------------------------------------------ set-up

const tmp = mkdtempSync(join(tmpdir(), 'cniwb-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));
const POLICY = join(tmp, 'policy.json'); // built-in grants only, whatever /etc/cni/cni-wasm holds
writeFileSync(POLICY, '{"version":1}\n');
const TRACE_FILE = join(tmp, 'trace.jsonl');
const BIN = join(tmp, 'bin');
const haveWasm = (t) => existsSync(join(PLUGINS, `${t}.wasm`));
const haveRef = (t) => existsSync(join(O.refDir, t));
const WASM_TYPES = ['bridge', 'host-local', 'vxlan', 'null'].filter(haveWasm);
execFileSync(process.execPath, [ENTRY, 'install', '--dir', BIN, '--plugins', WASM_TYPES.join(',') || 'null']);
// Plugins run with a runtime-like environment: nothing inherited but PATH (iptables for the
// reference's ipMasq lives in sbin).
const PATH = [...new Set([...(process.env.PATH ?? '').split(':'), '/usr/sbin', '/sbin', '/usr/bin', '/bin'].filter(Boolean))].join(':');

/** The implementations. `trace` is cni-wasm with CNI_WASM_TRACE=1. */
const IMPL = {
  ref: { id: 'ref', label: 'Go reference', cmd: (t) => join(O.refDir, t), cniPath: O.refDir, env: {} },
  wasm: { id: 'wasm', label: 'cni-wasm', cmd: (t) => join(BIN, t), cniPath: BIN, env: { CNI_WASM_POLICY: POLICY } },
  trace: { id: 'trace', label: 'cni-wasm (traced)', cmd: (t) => join(BIN, t), cniPath: BIN, env: { CNI_WASM_POLICY: POLICY, CNI_WASM_TRACE: '1', CNI_WASM_TRACE_FILE: TRACE_FILE } },
};

function pluginEnv(impl, command, containerId, ctr) {
  return {
    PATH,
    CNI_COMMAND: command,
    CNI_CONTAINERID: containerId,
    CNI_NETNS: ctr.path,
    CNI_IFNAME: 'eth0',
    CNI_PATH: impl.cniPath,
    ...impl.env,
  };
}

/**
 * One plugin invocation on `node` for container `ctr`, timed. Throws with the plugin's
 * answer when it fails. Traced runs come back with their phases.
 */
function invoke(impl, node, type, command, conf, containerId, ctr) {
  const cmd = impl.cmd(type);
  if (impl.id === 'trace') writeFileSync(TRACE_FILE, '');
  netns.enter(node);
  const r = timedRun(cmd, [], { env: pluginEnv(impl, command, containerId, ctr), input: JSON.stringify(conf) });
  if (r.status !== 0) throw new Error(`${impl.label} ${command} ${containerId}: ${describeFailure(cmd, [], r)}`);
  if (command === 'ADD') {
    const res = JSON.parse(r.stdout);
    if (type !== 'null' && !(Array.isArray(res.ips) && res.ips.length > 0)) throw new Error(`${impl.label} ADD ${containerId}: no ips in ${r.stdout.slice(0, 300)}`);
    r.result = res;
  }
  if (impl.id === 'trace') r.trace = phasesOf(readTrace(TRACE_FILE), r);
  return r;
}

const log = (msg) => process.stderr.write(`${msg}\n`);
const fmtMs = (x) => (x === undefined ? '-' : `${x.toFixed(1)} ms`);

// ------------------------------------------------------------------ scenarios

function bridgeConf(name, dataDir, extra) {
  return {
    cniVersion: '1.0.0',
    name,
    type: 'bridge',
    bridge: 'cni0',
    isGateway: true,
    ipMasq: false,
    ipam: { type: 'host-local', subnet: '10.22.0.0/16', routes: [{ dst: '0.0.0.0/0' }], dataDir },
    ...extra,
  };
}

/** The seed's config (seed/cni-architecture-guide.txt), with the state directory in our temp dir. */
const seedConf = (dataDir) => ({
  cniVersion: '0.4.0',
  name: 'example-network',
  type: 'bridge',
  bridge: 'cni0',
  isGateway: true,
  ipMasq: true,
  ipam: { type: 'host-local', subnet: '10.22.0.0/16', routes: [{ dst: '0.0.0.0/0' }], dataDir },
});

const VXLAN_PEERS = 3;
const SCENARIOS = [
  {
    id: 'seed',
    title: "seed's bridge config (ipMasq on)",
    type: 'bridge',
    needs: ['bridge', 'host-local'],
    conf: seedConf,
  },
  {
    id: 'bridge-v4',
    title: 'bridge IPv4, no masquerade',
    type: 'bridge',
    needs: ['bridge', 'host-local'],
    conf: (dataDir) => bridgeConf('bench-v4', dataDir, {}),
  },
  {
    id: 'dual-stack',
    title: 'bridge dual-stack (IPv4 + IPv6)',
    type: 'bridge',
    needs: ['bridge', 'host-local'],
    conf: (dataDir) =>
      bridgeConf('bench-ds', dataDir, {
        ipam: {
          type: 'host-local',
          ranges: [[{ subnet: '10.22.0.0/16' }], [{ subnet: 'fd00:22::/64' }]],
          routes: [{ dst: '0.0.0.0/0' }, { dst: '::/0' }],
          dataDir,
        },
      }),
  },
  {
    id: 'vxlan',
    title: `vxlan with ${VXLAN_PEERS} peers`,
    type: 'vxlan',
    needs: ['vxlan', 'host-local'],
    noReference: 'the reference plugins have no vxlan plugin',
    // The underlay: a veth from the node to a namespace standing for the rest of the network.
    setup(node) {
      const peer = netns.makeNetns('vxlan-underlay');
      execFileSync('ip', ['-n', node.name, 'link', 'add', 'underlay0', 'type', 'veth', 'peer', 'name', 'wire0', 'netns', peer.name]);
      execFileSync('ip', ['-n', node.name, 'addr', 'add', '192.168.77.1/24', 'dev', 'underlay0']);
      execFileSync('ip', ['-n', node.name, 'link', 'set', 'underlay0', 'up']);
      execFileSync('ip', ['-n', peer.name, 'addr', 'add', '192.168.77.2/24', 'dev', 'wire0']);
      execFileSync('ip', ['-n', peer.name, 'link', 'set', 'wire0', 'up']);
      return [peer];
    },
    conf: (dataDir) => ({
      cniVersion: '1.0.0',
      name: 'bench-vxlan',
      type: 'vxlan',
      vxlanId: 42,
      dev: 'underlay0',
      peers: Array.from({ length: VXLAN_PEERS }, (_, i) => ({ ip: `192.168.77.${i + 2}`, subnet: `10.245.${i + 2}.0/24` })),
      ipam: { type: 'host-local', subnet: '10.245.1.0/24', dataDir },
    }),
  },
];

/** Why a scenario cannot run here, or undefined. */
function unavailable(sc) {
  const missing = sc.needs.filter((t) => !haveWasm(t));
  if (missing.length) return `not built yet: ${missing.map((t) => `dist/plugins/${t}.wasm`).join(', ')}`;
  return undefined;
}

function refAvailable(sc) {
  if (sc.noReference) return false;
  return haveRef(sc.type) && haveRef('host-local');
}

/** Latency of ADD and DEL: reference and cni-wasm alternately, plus a traced cni-wasm run. */
function latencyScenario(sc) {
  const out = { id: sc.id, title: sc.title, kind: 'latency', status: 'ok', runs: O.runs, warmup: O.warmup };
  const reason = unavailable(sc);
  if (reason) return { ...out, status: 'not available', reason };
  const impls = [...(refAvailable(sc) ? [IMPL.ref] : []), IMPL.wasm];
  out.reference = refAvailable(sc) ? 'available' : sc.noReference ?? `no ${sc.type} in ${O.refDir}`;
  const lanes = impls.map((impl) => {
    const node = netns.makeNetns(`${sc.id}-${impl.id}-node`);
    const ctr = netns.makeNetns(`${sc.id}-${impl.id}-ctr`);
    const dataDir = join(tmp, 'state', sc.id, impl.id);
    const extra = sc.setup?.(node) ?? [];
    return { impl, node, ctr, extra, conf: sc.conf(dataDir), add: [], del: [] };
  });
  // The traced runs share the cni-wasm node (the same state the untraced run sees).
  const wasmLane = lanes.find((l) => l.impl === IMPL.wasm);
  const tracedAdd = [];
  const tracedDel = [];
  const tracedWall = [];
  out.config = wasmLane.conf;
  try {
    for (let i = 0; i < O.warmup + O.runs; i++) {
      const keep = i >= O.warmup;
      const adds = lanes.map((l) => invoke(l.impl, l.node, sc.type, 'ADD', l.conf, `${sc.id}-${i}`, l.ctr));
      const dels = lanes.map((l) => invoke(l.impl, l.node, sc.type, 'DEL', l.conf, `${sc.id}-${i}`, l.ctr));
      const ta = invoke(IMPL.trace, wasmLane.node, sc.type, 'ADD', wasmLane.conf, `${sc.id}-t${i}`, wasmLane.ctr);
      const td = invoke(IMPL.trace, wasmLane.node, sc.type, 'DEL', wasmLane.conf, `${sc.id}-t${i}`, wasmLane.ctr);
      if (!keep) continue;
      lanes.forEach((l, k) => {
        l.add.push(adds[k].ms);
        l.del.push(dels[k].ms);
      });
      tracedAdd.push(ta.trace);
      tracedDel.push(td.trace);
      tracedWall.push(ta.ms);
    }
  } catch (e) {
    out.status = 'failed';
    out.reason = e.message;
    log(`  ${sc.id}: FAILED: ${e.message}`);
  } finally {
    netns.remove(lanes.flatMap((l) => [l.node, l.ctr, ...l.extra]));
  }
  for (const l of lanes) out[l.impl.id] = { add: l.add, del: l.del, addStats: roundStats(stats(l.add)), delStats: roundStats(stats(l.del)) };
  if (out.ref && out.wasm) {
    out.ratio = { add: roundStats(stats(pairRatios(out.ref.add, out.wasm.add)), 3), del: roundStats(stats(pairRatios(out.ref.del, out.wasm.del)), 3) };
    out.diff = { add: roundStats(stats(pairDiffs(out.ref.add, out.wasm.add))), del: roundStats(stats(pairDiffs(out.ref.del, out.wasm.del))) };
  }
  if (tracedAdd.length) {
    out.trace = {
      add: { ...meanPhases(tracedAdd), hostCalls: meanHostCalls(tracedAdd), kernel: meanKernel(tracedAdd) },
      del: { ...meanPhases(tracedDel), hostCalls: meanHostCalls(tracedDel), kernel: meanKernel(tracedDel) },
      // What tracing itself costs: traced ADD against the untraced one of the same iteration.
      overheadMs: roundStats(stats(pairDiffs(out.wasm.add, tracedWall))),
    };
  }
  return out;
}

/** The floor: the null plugin through the binary, against `node -e 0`, VERSION and Go's VERSION. */
function floorScenario() {
  const out = { id: 'null', title: 'null plugin (fixed cost of the host)', kind: 'floor', status: 'ok', runs: O.runs, warmup: O.warmup };
  if (!haveWasm('null')) return { ...out, status: 'not available', reason: 'not built: dist/plugins/null.wasm' };
  const node = process.execPath;
  const conf = JSON.stringify({ cniVersion: '1.1.0', name: 'bench-null', type: 'null' });
  const ctr = { path: '/var/run/netns/cniwb-none' }; // never opened by the null plugin
  const env = (command, extra = {}) => ({ PATH, CNI_COMMAND: command, CNI_CONTAINERID: 'null', CNI_NETNS: ctr.path, CNI_IFNAME: 'eth0', CNI_PATH: BIN, CNI_WASM_POLICY: POLICY, ...extra });
  const goVersion = haveRef('bridge') ? join(O.refDir, 'bridge') : undefined;
  const legs = {
    nodeE0: () => timedRun(node, ['-e', '0'], { env: { PATH } }),
    version: () => timedRun(node, [ENTRY], { env: env('VERSION') }),
    nullAdd: () => timedRun(node, [ENTRY], { env: env('ADD'), input: conf }),
    nullDel: () => timedRun(node, [ENTRY], { env: env('DEL'), input: conf }),
    // As a runtime execs it: the launcher `cni-wasm install` writes (/bin/sh, then node).
    launcherAdd: () => timedRun(join(BIN, 'null'), [], { env: env('ADD'), input: conf }),
    ...(goVersion ? { goVersion: () => timedRun(goVersion, [], { env: { PATH, CNI_COMMAND: 'VERSION' } }) } : {}),
    tracedAdd: () => {
      writeFileSync(TRACE_FILE, '');
      const r = timedRun(node, [ENTRY], { env: env('ADD', { CNI_WASM_TRACE: '1', CNI_WASM_TRACE_FILE: TRACE_FILE }), input: conf });
      if (r.status === 0) r.trace = phasesOf(readTrace(TRACE_FILE), r);
      return r;
    },
  };
  const xs = Object.fromEntries(Object.keys(legs).map((k) => [k, []]));
  const traces = [];
  try {
    for (let i = 0; i < O.warmup + O.runs; i++) {
      for (const [k, f] of Object.entries(legs)) {
        const r = f();
        if (r.status !== 0) throw new Error(`${k}: ${describeFailure(k, [], r)}`);
        if (i < O.warmup) continue;
        xs[k].push(r.ms);
        if (r.trace) traces.push(r.trace);
      }
    }
  } catch (e) {
    out.status = 'failed';
    out.reason = e.message;
    log(`  null: FAILED: ${e.message}`);
  }
  out.samples = xs;
  out.stats = Object.fromEntries(Object.entries(xs).map(([k, v]) => [k, roundStats(stats(v))]));
  out.ratioToNode = Object.fromEntries(
    ['version', 'nullAdd', 'nullDel', 'launcherAdd', 'goVersion'].filter((k) => xs[k]).map((k) => [k, roundStats(stats(pairRatios(xs.nodeE0, xs[k])), 3)]),
  );
  out.overNodeMs = Object.fromEntries(['version', 'nullAdd', 'nullDel', 'launcherAdd', 'goVersion'].filter((k) => xs[k]).map((k) => [k, roundStats(stats(pairDiffs(xs.nodeE0, xs[k])))]));
  if (traces.length) out.trace = { add: { ...meanPhases(traces), hostCalls: meanHostCalls(traces), kernel: meanKernel(traces) }, overheadMs: roundStats(stats(pairDiffs(xs.nullAdd, xs.tracedAdd))) };
  return out;
}

/** The state files host-local left for a network: IP-named entries are allocations. */
function allocations(dataDir, network) {
  const dir = join(dataDir, network);
  if (!existsSync(dir)) return [];
  return readdirSync(dir).filter((n) => n !== 'lock' && !n.startsWith('last_reserved_ip') && !n.startsWith('.'));
}

function bridgePorts(node) {
  return netns.ipJson(node, 'link', 'show', 'master', 'cni0').map((l) => l.ifname);
}

/** N simultaneous ADDs from separate processes onto one bridge, then N simultaneous DELs. */
async function concurrencyScenario() {
  const n = O.concurrency;
  const out = { id: 'concurrency', title: `${n} simultaneous ADDs onto one bridge (seed config)`, kind: 'concurrency', status: 'ok', n, rounds: O.concurrencyRounds };
  const sc = SCENARIOS[0];
  const reason = unavailable(sc);
  if (reason) return { ...out, status: 'not available', reason };
  const impls = [...(refAvailable(sc) ? [IMPL.ref] : []), IMPL.wasm];
  for (const impl of impls) out[impl.id] = [];
  try {
    for (let round = 0; round < O.concurrencyRounds; round++) {
      for (const impl of impls) {
        const node = netns.makeNetns(`conc-${impl.id}-node`);
        const ctrs = netns.makeMany(`conc-${impl.id}-c`, n);
        const dataDir = join(tmp, 'state', `conc-${round}`, impl.id);
        const conf = sc.conf(dataDir);
        try {
          // The bridge exists before the burst, as on a node that already runs pods.
          const warm = netns.makeNetns(`conc-${impl.id}-warm`);
          invoke(impl, node, sc.type, 'ADD', conf, 'warm', warm);
          invoke(impl, node, sc.type, 'DEL', conf, 'warm', warm);
          netns.remove([warm]);
          const job = (command) => (ctr, i) => ({
            cmd: impl.cmd(sc.type),
            env: pluginEnv(impl, command, `conc-${i}`, ctr),
            input: JSON.stringify(conf),
            before: () => netns.enter(node),
          });
          const add = await runConcurrently(ctrs.map(job('ADD')));
          const failedAdd = add.runs.filter((r) => r.status !== 0);
          const ips = add.runs.filter((r) => r.status === 0).flatMap((r) => (JSON.parse(r.stdout).ips ?? []).map((x) => x.address));
          const unique = new Set(ips).size;
          const ports = bridgePorts(node).length;
          const del = await runConcurrently(ctrs.map(job('DEL')));
          const failedDel = del.runs.filter((r) => r.status !== 0);
          const left = allocations(dataDir, conf.name);
          const portsLeft = bridgePorts(node).length;
          const row = {
            round,
            addWallMs: add.wallMs,
            delWallMs: del.wallMs,
            addPerProcess: roundStats(stats(add.runs.map((r) => r.ms))),
            delPerProcess: roundStats(stats(del.runs.map((r) => r.ms))),
            addFailed: failedAdd.length,
            delFailed: failedDel.length,
            addresses: ips.length,
            uniqueAddresses: unique,
            bridgePortsAfterAdd: ports,
            allocationsAfterDel: left.length,
            bridgePortsAfterDel: portsLeft,
            ok: failedAdd.length === 0 && failedDel.length === 0 && ips.length === n && unique === n && ports === n && left.length === 0 && portsLeft === 0,
          };
          if (failedAdd.length) row.firstAddError = `${failedAdd[0].stdout}${failedAdd[0].stderr}`.slice(0, 400);
          if (failedDel.length) row.firstDelError = `${failedDel[0].stdout}${failedDel[0].stderr}`.slice(0, 400);
          out[impl.id].push(row);
          log(`  ${impl.label}: ${n} ADDs in ${fmtMs(add.wallMs)}, DELs in ${fmtMs(del.wallMs)}; ${unique}/${n} unique addresses, ${left.length} left allocated${row.ok ? '' : ' (NOT OK)'}`);
          if (!row.ok) {
            out.status = 'failed';
            out.reason = `${impl.label} round ${round}: ${JSON.stringify({ ...row, addPerProcess: undefined, delPerProcess: undefined })}`;
          }
        } finally {
          netns.remove([node, ...ctrs]);
        }
      }
    }
  } catch (e) {
    out.status = 'failed';
    out.reason = e.message;
    log(`  concurrency: FAILED: ${e.message}`);
  }
  for (const impl of impls) {
    const rows = out[impl.id];
    out[`${impl.id}Summary`] = { addWall: roundStats(stats(rows.map((r) => r.addWallMs))), delWall: roundStats(stats(rows.map((r) => r.delWallMs))) };
  }
  if (out.ref?.length && out.wasm?.length) {
    out.ratio = {
      addWall: roundStats(stats(pairRatios(out.ref.map((r) => r.addWallMs), out.wasm.map((r) => r.addWallMs))), 3),
      delWall: roundStats(stats(pairRatios(out.ref.map((r) => r.delWallMs), out.wasm.map((r) => r.delWallMs))), 3),
    };
  }
  return out;
}

/**
 * ADD latency with k containers already on the bridge. Each implementation gets its own node,
 * populated by itself (its own IPAM state and masquerade rules: the state its next ADD works
 * against), with real containers (a namespace and a veth each) added in parallel batches;
 * the population is not measured. Then reference and cni-wasm ADD+DEL alternately.
 */
async function scaleScenario() {
  const out = { id: 'scale', title: 'ADD latency with containers already on the bridge (seed config)', kind: 'scale', status: 'ok', levels: O.scale, runs: O.scaleRuns };
  const sc = SCENARIOS[0];
  const reason = unavailable(sc);
  if (reason) return { ...out, status: 'not available', reason };
  const impls = [...(refAvailable(sc) ? [IMPL.ref] : []), IMPL.wasm];
  const lanes = impls.map((impl) => ({
    impl,
    node: netns.makeNetns(`scale-${impl.id}-node`),
    ctr: netns.makeNetns(`scale-${impl.id}-ctr`),
    conf: sc.conf(join(tmp, 'state', 'scale', impl.id)),
    existing: [],
  }));
  const wasmLane = lanes.find((l) => l.impl === IMPL.wasm);
  out.byLevel = [];
  const width = 8;
  try {
    for (const level of O.scale) {
      for (const l of lanes) {
        const need = level - l.existing.length;
        if (need <= 0) continue;
        const t0 = performance.now();
        const ctrs = netns.makeMany(`scale-${l.impl.id}-c`, need);
        const base = l.existing.length;
        await runInBatches(
          ctrs.map((ctr, i) => ({
            cmd: l.impl.cmd(sc.type),
            env: pluginEnv(l.impl, 'ADD', `scale-${base + i}`, ctr),
            input: JSON.stringify(l.conf),
            before: () => netns.enter(l.node),
          })),
          width,
        );
        l.existing.push(...ctrs);
        log(`  ${l.impl.label}: ${l.existing.length} containers on the bridge (${need} added in ${((performance.now() - t0) / 1000).toFixed(1)} s)`);
      }
      const row = { level, traced: [] };
      for (const l of lanes) row[l.impl.id] = { add: [], del: [] };
      const tracedWall = [];
      for (let i = 0; i < O.scaleRuns + (O.quick ? 0 : 1); i++) {
        const keep = O.quick || i > 0; // one warm-up iteration per level in full runs
        const adds = lanes.map((l) => invoke(l.impl, l.node, sc.type, 'ADD', l.conf, `probe-${level}-${i}`, l.ctr));
        const dels = lanes.map((l) => invoke(l.impl, l.node, sc.type, 'DEL', l.conf, `probe-${level}-${i}`, l.ctr));
        const ta = invoke(IMPL.trace, wasmLane.node, sc.type, 'ADD', wasmLane.conf, `probe-${level}-t${i}`, wasmLane.ctr);
        invoke(IMPL.trace, wasmLane.node, sc.type, 'DEL', wasmLane.conf, `probe-${level}-t${i}`, wasmLane.ctr);
        if (!keep) continue;
        lanes.forEach((l, k) => {
          row[l.impl.id].add.push(adds[k].ms);
          row[l.impl.id].del.push(dels[k].ms);
        });
        row.traced.push(ta.trace);
        tracedWall.push(ta.ms);
      }
      for (const l of lanes) {
        const r = row[l.impl.id];
        r.addStats = roundStats(stats(r.add));
        r.delStats = roundStats(stats(r.del));
      }
      if (row.ref) row.ratio = { add: roundStats(stats(pairRatios(row.ref.add, row.wasm.add)), 3), del: roundStats(stats(pairRatios(row.ref.del, row.wasm.del)), 3) };
      row.trace = { add: { ...meanPhases(row.traced), hostCalls: meanHostCalls(row.traced), kernel: meanKernel(row.traced) } };
      delete row.traced;
      out.byLevel.push(row);
      log(`  ${level} existing: ADD ${lanes.map((l) => `${l.impl.label} ${fmtMs(row[l.impl.id].addStats.median)}`).join(', ')}${row.ratio ? ` (ratio ${row.ratio.add.median})` : ''}`);
    }
  } catch (e) {
    out.status = 'failed';
    out.reason = e.message;
    log(`  scale: FAILED: ${e.message}`);
  } finally {
    netns.remove(lanes.flatMap((l) => [l.node, l.ctr, ...l.existing]));
  }
  return out;
}

/**
 * The seed config through host/cni/plugin-main.ts's invoke() in one long-lived process
 * (bench/lib/resident.mjs): the cost per invocation once Node has started, the modules are
 * loaded and V8's code is warm. An estimate of what a resident host would pay.
 */
async function residentScenario() {
  const out = { id: 'resident', title: 'seed config in one warm process (what a resident host would pay)', kind: 'resident', status: 'ok', runs: O.runs, warmup: Math.max(O.warmup, O.quick ? 0 : 3) };
  const sc = SCENARIOS[0];
  const reason = unavailable(sc);
  if (reason) return { ...out, status: 'not available', reason };
  const worker = await buildResidentWorker(root);
  const node = netns.makeNetns('resident-node');
  const ctr = netns.makeNetns('resident-ctr');
  try {
    const env = { PATH, CNI_NETNS: ctr.path, CNI_IFNAME: 'eth0', CNI_PATH: BIN, CNI_WASM_POLICY: POLICY, CNI_WASM_PLUGIN_DIR: PLUGINS };
    const arg = JSON.stringify({ conf: sc.conf(join(tmp, 'state', 'resident')), env, runs: O.runs, warmup: out.warmup });
    netns.enter(node);
    const r = timedRun(process.execPath, [worker, arg], { env: { PATH }, timeoutMs: 600_000 });
    if (r.status !== 0) throw new Error(describeFailure('resident worker', [], r));
    const res = JSON.parse(r.stdout);
    out.wasm = { add: res.add, del: res.del, addStats: roundStats(stats(res.add)), delStats: roundStats(stats(res.del)) };
    // The worker's first call (its bundle has no code cache, unlike dist/): for the record only.
    out.firstInWorker = { add: res.first.add, del: res.first.del, processStartToFirstCallMs: res.first.loadedAt };
  } catch (e) {
    out.status = 'failed';
    out.reason = e.message;
    log(`  resident: FAILED: ${e.message}`);
  } finally {
    netns.remove([node, ctr]);
  }
  return out;
}

// ------------------------------------------------------------------ main

const started = new Date();
const results = {
  schema: 1,
  name: O.name,
  date: started.toISOString(),
  quick: O.quick,
  options: { runs: O.runs, warmup: O.warmup, concurrency: O.concurrency, concurrencyRounds: O.concurrencyRounds, scale: O.scale, scaleRuns: O.scaleRuns, refDir: O.refDir },
  machine: describeMachine(O.refDir),
  build: {
    commit: spawnSync('git', ['-C', root, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).stdout.trim() || undefined,
    dirty: (spawnSync('git', ['-C', root, 'status', '--porcelain', '--', 'host', 'plugins-as', 'wit'], { encoding: 'utf8' }).stdout ?? '').trim() !== '',
    plugins: Object.fromEntries(WASM_TYPES.map((t) => [t, readFileSync(join(PLUGINS, `${t}.wasm`)).length])),
  },
  scenarios: [],
};
const loadBefore = loadAverage();

const steps = [
  ['null', () => floorScenario()],
  ...SCENARIOS.map((sc) => [sc.id, () => latencyScenario(sc)]),
  ['concurrency', () => concurrencyScenario()],
  ['scale', () => scaleScenario()],
  ['resident', () => residentScenario()],
];
for (const [id, run] of steps) {
  if (!want(id)) continue;
  const t0 = performance.now();
  log(`${id} ...`);
  const loadAtStart = loadAverage();
  const r = await run();
  r.loadAtStart = loadAtStart;
  r.seconds = Math.round((performance.now() - t0) / 100) / 10;
  results.scenarios.push(r);
  if (r.status !== 'ok') log(`  ${id}: ${r.status}${r.reason ? `: ${r.reason}` : ''}`);
  else if (r.ratio?.add) log(`  ${id}: ADD ${fmtMs(r.ref?.addStats.median)} (reference) vs ${fmtMs(r.wasm?.addStats.median)} (cni-wasm), ratio ${r.ratio.add.median}`);
  else if (r.wasm?.addStats) log(`  ${id}: ADD ${fmtMs(r.wasm.addStats.median)}, DEL ${fmtMs(r.wasm.delStats.median)} (cni-wasm)`);
  else if (r.stats?.nullAdd) log(`  null ADD ${fmtMs(r.stats.nullAdd.median)}, node -e 0 ${fmtMs(r.stats.nodeE0.median)}, ratio ${r.ratioToNode.nullAdd.median}`);
}
netns.leave();
results.machine.load = { before: loadBefore, after: loadAverage() };
results.seconds = Math.round((Date.now() - started.getTime()) / 1000);

mkdirSync(O.out, { recursive: true });
const files = writeReport(results, O.out, O.name);
for (const f of files) log(`wrote ${f}`);
const failed = results.scenarios.filter((s) => s.status === 'failed');
if (failed.length) {
  log(`failed: ${failed.map((s) => s.id).join(', ')}`);
  process.exitCode = 1;
}
