// Phase timing of one invocation, for bench/ (docs/benchmark.md). Off by default.
//
//   CNI_WASM_TRACE=1             turn it on
//   CNI_WASM_TRACE_FILE=<path>   append the trace line there (else to CNI_LOG_FILE, else stderr)
//
// When off, every entry point below is one test of a module-level boolean: nothing is
// loaded, allocated or timed (bench/run.mjs checks the null plugin's cost both ways).
//
// When on, the invocation's wall time from the first line of host code to the last mark is
// split into exclusive phases with a stack: entering a phase pauses the one below it, so a
// nested .wasm IPAM plugin's compile time counts as compile, not as the caller's host call,
// and the phases add up to the whole. Host calls (HostState.call) are also aggregated by
// kind (count, inclusive time, time in the kernel inside them). "Kernel" is time blocked in
// system calls made for the plugin, measured where the host calls them: netlink send/recv
// and socket creation (host/sys/netlink/socket.ts, which nf_tables uses too), sysctl
// reads/writes with their namespace switch, namespace opening, and the store's file and
// lock operations (at the host API boundary). A native IPAM plugin exec'd by the host is
// its own phase (`ipam.exec`). At exit one JSON line is written (see flushTrace).
//
// cni-wasm.cjs and the lazily loaded runtime.cjs each bundle a copy of this module; they
// share one state through a global symbol.
import { appendFileSync, writeSync } from 'node:fs';

export const TRACE: boolean = process.env.CNI_WASM_TRACE === '1';

interface Frame {
  name: string;
  /** When the frame was entered. */
  t0: number;
  /** Host-call frames: kernel time inside (inclusive of nested calls). */
  kernel?: number;
  /** Host-call frames: the aggregation key. */
  host?: string;
}

interface Agg {
  n: number;
  ms: number;
}

interface HostAgg extends Agg {
  kernelMs: number;
}

interface State {
  /** performance.now() at the first line of host code. */
  first: number;
  /** process.hrtime (CLOCK_MONOTONIC, shared by every process) at performance.timeOrigin, in ns. */
  originHrNs: bigint;
  /** Last time exclusive time was charged. */
  last: number;
  stack: Frame[];
  phases: Record<string, Agg>;
  hostCalls: Record<string, HostAgg>;
  kernel: Record<string, Agg>;
  info: Record<string, unknown>;
  flushed: boolean;
}

const KEY = Symbol.for('cni-wasm.trace');
type G = typeof globalThis & { [KEY]?: State };

function begin(): void {
  const g = globalThis as G;
  if (g[KEY]) return;
  const now = performance.now();
  const hr = process.hrtime.bigint();
  g[KEY] = {
    first: now,
    originHrNs: hr - BigInt(Math.round(performance.now() * 1e6)),
    last: now,
    // The bottom frame: host code outside any named phase (argument parsing, glue, awaits).
    stack: [{ name: 'host.other', t0: now }],
    phases: {},
    hostCalls: {},
    kernel: {},
    info: {},
    flushed: false,
  };
}

// The first copy evaluated marks the first line of host code: host/cli/main.ts imports
// this module before anything else.
if (TRACE) begin();

function st(): State {
  return (globalThis as G)[KEY] as State;
}

function charge(s: State, now: number): void {
  const top = s.stack[s.stack.length - 1];
  if (top) {
    const a = (s.phases[top.name] ??= { n: 0, ms: 0 });
    a.ms += now - s.last;
  }
  s.last = now;
}

/** Enter a phase; returns a token for leave(). Nothing happens (and 0 is returned) when tracing is off. */
export function enter(name: string): number {
  if (!TRACE) return 0;
  const s = st();
  const now = performance.now();
  charge(s, now);
  const a = (s.phases[name] ??= { n: 0, ms: 0 });
  a.n++;
  s.stack.push({ name, t0: now });
  return s.stack.length - 1;
}

/**
 * Leave the phase `token` came from (and whatever was left open above it: a budget stop
 * skips finally blocks, so an inner leave may never have run).
 */
export function leave(token: number): void {
  if (!TRACE || token <= 0) return;
  const s = st();
  const now = performance.now();
  charge(s, now);
  while (s.stack.length > token) close(s, s.stack.pop() as Frame, now);
}

function close(s: State, f: Frame, now: number): void {
  const d = now - f.t0;
  if (f.host !== undefined) {
    const h = (s.hostCalls[f.host] ??= { n: 0, ms: 0, kernelMs: 0 });
    h.n++;
    h.ms += d;
    h.kernelMs += f.kernel ?? 0;
  } else if (f.name.startsWith('kernel.')) {
    const k = (s.kernel[f.name.slice(7)] ??= { n: 0, ms: 0 });
    k.n++;
    k.ms += d;
    // Kernel time counts for every host call it happened in (a nested IPAM plugin's too).
    for (const o of s.stack) if (o.host !== undefined) o.kernel = (o.kernel ?? 0) + d;
  }
}

/** A host call of `plugin` begins (HostState.call): its own time is phase `hostapi`. */
export function enterHostCall(plugin: string, call: string): number {
  if (!TRACE) return 0;
  const t = enter('hostapi');
  const s = st();
  const f = s.stack[s.stack.length - 1] as Frame;
  f.host = `${plugin}:${call}`;
  f.kernel = 0;
  return t;
}

/** Enter kernel time of a kind (netlink, sysctl, netns, store). */
export function enterKernel(kind: string): number {
  return TRACE ? enter(`kernel.${kind}`) : 0;
}

/** Attach a fact to the trace line (command, plugin type, result of a phase). */
export function traceInfo(key: string, value: unknown): void {
  if (TRACE) st().info[key] = value;
}

/**
 * Write the trace line: once, at the end of the invocation. `endHrNs` lets a parent that
 * timed the exec on the same monotonic clock work out the time the process took to exit.
 */
export function flushTrace(env: Record<string, string | undefined> = process.env): void {
  if (!TRACE) return;
  const s = st();
  if (s.flushed) return;
  s.flushed = true;
  const now = performance.now();
  const endHrNs = s.originHrNs + BigInt(Math.round(now * 1e6));
  charge(s, now);
  while (s.stack.length > 1) close(s, s.stack.pop() as Frame, now);
  const round = (x: number): number => Math.round(x * 1000) / 1000;
  const roundAll = <T extends Agg & { kernelMs?: number }>(r: Record<string, T>): Record<string, T> => {
    const out: Record<string, T> = {};
    for (const [k, v] of Object.entries(r)) out[k] = { ...v, ms: round(v.ms), ...(v.kernelMs === undefined ? {} : { kernelMs: round(v.kernelMs) }) };
    return out;
  };
  // Node's own milestones, in ms after performance.timeOrigin (the global's type lacks them).
  const timing = (performance as unknown as { nodeTiming: Record<'nodeStart' | 'v8Start' | 'environment' | 'bootstrapComplete', number> }).nodeTiming;
  const trace = {
    v: 1,
    pid: process.pid,
    ...s.info,
    originHrNs: s.originHrNs.toString(),
    endHrNs: endHrNs.toString(),
    node: { nodeStart: round(timing.nodeStart), v8Start: round(timing.v8Start), environment: round(timing.environment), bootstrapComplete: round(timing.bootstrapComplete) },
    firstLineMs: round(s.first),
    endMs: round(now),
    phases: roundAll(s.phases),
    hostCalls: roundAll(s.hostCalls),
    kernel: roundAll(s.kernel),
  };
  const file = env.CNI_WASM_TRACE_FILE || env.CNI_LOG_FILE;
  try {
    if (file) {
      // Shaped like the logger's (pino) lines, so it sits well in CNI_LOG_FILE.
      appendFileSync(file, `${JSON.stringify({ level: 30, time: Date.now(), pid: process.pid, name: 'cni-wasm', trace, msg: 'trace' })}\n`);
    } else {
      writeSync(2, `${JSON.stringify({ trace })}\n`);
    }
  } catch {
    /* a trace must never change a CNI answer */
  }
}
