// Reading host/trace.ts output (CNI_WASM_TRACE=1) into phases that add up to the wall time
// the parent measured. The child reports its clock origin and its last mark on
// CLOCK_MONOTONIC (process.hrtime), the parent timed the spawn on the same clock, so:
//   exec         spawn -> the child's performance.timeOrigin (fork, the /bin/sh launcher
//                `cni-wasm install` writes, exec of node, its earliest start)
//   node.*       Node's bootstrap, then loading dist/cni-wasm.cjs up to its first line
//   ...          the host's own exclusive phases (host/trace.ts)
//   exit         last mark -> the parent sees the exit (teardown, exit, reaping)
import { readFileSync } from 'node:fs';

/** Phases in stacking order, with the group each belongs to. */
export const PHASES = [
  ['exec', 'startup', 'exec (fork, sh launcher, exec node)'],
  ['node.bootstrap', 'startup', 'Node bootstrap'],
  ['node.main', 'startup', 'load cni-wasm.cjs'],
  ['cni.config', 'host', 'env + config'],
  ['load.runtime', 'host', 'load runtime.cjs'],
  ['host.other', 'host', 'host, other'],
  ['wasm.read', 'sandbox', 'wasm read'],
  ['wasm.verify', 'sandbox', 'wasm verify'],
  ['wasm.policy', 'sandbox', 'policy'],
  ['wasm.compile', 'sandbox', 'wasm compile'],
  ['wasm.setup', 'sandbox', 'host API setup/close'],
  ['wasm.budget', 'sandbox', 'budget + glue bind'],
  ['wasm.instantiate', 'sandbox', 'instantiate'],
  ['plugin', 'sandbox', 'plugin code + ABI glue'],
  ['hostapi', 'hostapi', 'host API (JS: checks, encoding)'],
  ['kernel.netlink', 'kernel', 'kernel: netlink'],
  ['kernel.sysctl', 'kernel', 'kernel: sysctl'],
  ['kernel.netns', 'kernel', 'kernel: netns open'],
  ['kernel.store', 'kernel', 'kernel: store files/lock'],
  ['kernel.files', 'kernel', 'kernel: files read'],
  ['kernel.other', 'kernel', 'kernel: other'],
  ['ipam.exec', 'ipam', 'native IPAM exec'],
  ['result', 'host', 'result conversion'],
  ['output', 'host', 'write stdout'],
  ['log', 'host', 'log'],
  ['exit', 'exit', 'exit'],
];

export const GROUPS = {
  startup: { label: 'Node start-up', color: '#4e79a7', shades: ['#2f5d8a', '#4e79a7', '#7fa6cf'] },
  host: { label: 'host (TypeScript)', color: '#9c755f', shades: ['#7a563f', '#9c755f', '#b9927c', '#d2b19d', '#a88a6e', '#c4a48a'] },
  sandbox: { label: 'wasm sandbox', color: '#f28e2b', shades: ['#c96a0e', '#f28e2b', '#f6a553', '#f9bb7a', '#e07b1a', '#ffcf99', '#d97706', '#fbbf24'] },
  hostapi: { label: 'host API', color: '#b07aa1', shades: ['#b07aa1'] },
  kernel: { label: 'kernel', color: '#59a14f', shades: ['#3b7d33', '#59a14f', '#86bc7e', '#aed4a7', '#2a5d24', '#c9e4c3'] },
  ipam: { label: 'native IPAM exec', color: '#e15759', shades: ['#e15759'] },
  exit: { label: 'exit', color: '#bab0ac', shades: ['#bab0ac'] },
};

/** { key, label, color, group } for every phase, colors shaded within their group. */
export function phaseKeys() {
  const used = {};
  return PHASES.map(([key, group, label]) => {
    const g = GROUPS[group];
    const i = (used[group] = (used[group] ?? -1) + 1);
    return { key, label, group, color: g.shades[i % g.shades.length] };
  });
}

/** The trace line a child wrote (the last one in `file` whose pid matches, or the last one). */
export function readTrace(file, pid) {
  const lines = readFileSync(file, 'utf8').trim().split('\n').filter(Boolean);
  for (let i = lines.length - 1; i >= 0; i--) {
    const o = JSON.parse(lines[i]);
    const t = o.trace ?? o;
    if (pid === undefined || t.pid === pid) return t;
  }
  throw new Error(`no trace line in ${file}`);
}

/** One traced run -> { wallMs, phases: {key: ms}, hostCalls, kernel } (phases sum to wallMs). */
export function phasesOf(trace, run) {
  const origin = BigInt(trace.originHrNs);
  const end = BigInt(trace.endHrNs);
  const p = {};
  p.exec = Number(origin - run.startHr) / 1e6;
  p['node.bootstrap'] = trace.node.bootstrapComplete;
  p['node.main'] = trace.firstLineMs - trace.node.bootstrapComplete;
  for (const [k, v] of Object.entries(trace.phases)) p[k] = (p[k] ?? 0) + v.ms;
  p.exit = Number(run.endHr - end) / 1e6;
  const known = new Set(PHASES.map(([k]) => k));
  // A phase this list does not know yet still lands in the right group.
  for (const k of Object.keys(p)) {
    if (!known.has(k)) {
      const into = k.startsWith('kernel.') ? 'kernel.other' : 'host.other';
      p[into] = (p[into] ?? 0) + p[k];
      delete p[k];
    }
  }
  return { wallMs: run.ms, phases: p, hostCalls: trace.hostCalls, kernel: trace.kernel };
}

/** Mean of each phase over runs (means add up, medians do not), per group too. */
export function meanPhases(list) {
  const sum = {};
  for (const r of list) for (const [k, v] of Object.entries(r.phases)) sum[k] = (sum[k] ?? 0) + v;
  const phases = {};
  for (const [k] of PHASES) if (sum[k] !== undefined) phases[k] = sum[k] / list.length;
  const groups = {};
  for (const [k, g] of PHASES) if (phases[k] !== undefined) groups[g] = (groups[g] ?? 0) + phases[k];
  const wall = list.reduce((a, r) => a + r.wallMs, 0) / list.length;
  return { runs: list.length, wallMs: wall, phases, groups };
}

/** Host calls by kind, per run on average: { kind: { n, ms, kernelMs } }. */
export function meanHostCalls(list) {
  const sum = {};
  for (const r of list) {
    for (const [k, v] of Object.entries(r.hostCalls ?? {})) {
      const s = (sum[k] ??= { n: 0, ms: 0, kernelMs: 0 });
      s.n += v.n;
      s.ms += v.ms;
      s.kernelMs += v.kernelMs;
    }
  }
  const out = {};
  for (const [k, s] of Object.entries(sum)) out[k] = { n: s.n / list.length, ms: s.ms / list.length, kernelMs: s.kernelMs / list.length };
  return out;
}

/** Kernel time by kind, per run on average: { kind: { n, ms } }. */
export function meanKernel(list) {
  const sum = {};
  for (const r of list) {
    for (const [k, v] of Object.entries(r.kernel ?? {})) {
      const s = (sum[k] ??= { n: 0, ms: 0 });
      s.n += v.n;
      s.ms += v.ms;
    }
  }
  const out = {};
  for (const [k, s] of Object.entries(sum)) out[k] = { n: s.n / list.length, ms: s.ms / list.length };
  return out;
}
