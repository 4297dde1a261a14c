// Timed process runs for the benchmarks: wall time from just before the spawn to the
// parent seeing the exit, on process.hrtime (CLOCK_MONOTONIC, the clock host/trace.ts
// reports in too, so a child's trace can be placed on the parent's timeline).
import { spawn, spawnSync } from 'node:child_process';

const hr = () => process.hrtime.bigint();

/**
 * Run `cmd` synchronously; returns { ms, status, stdout, stderr, startHr, endHr }.
 * `env` is the whole environment (nothing is inherited).
 */
export function timedRun(cmd, args, { env, input = '', timeoutMs = 60_000 } = {}) {
  const startHr = hr();
  const r = spawnSync(cmd, args, { env, input, encoding: 'utf8', timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 });
  const endHr = hr();
  return {
    ms: Number(endHr - startHr) / 1e6,
    status: r.status,
    signal: r.signal,
    error: r.error,
    stdout: r.stdout ?? '',
    stderr: r.stderr ?? '',
    startHr,
    endHr,
  };
}

/** Like timedRun, but throws unless the exit status is 0. */
export function mustRun(cmd, args, opts) {
  const r = timedRun(cmd, args, opts);
  if (r.status !== 0) throw new Error(describeFailure(cmd, args, r));
  return r;
}

export function describeFailure(cmd, args, r) {
  const why = r.error ? r.error.message : r.signal ? `signal ${r.signal}` : `exit ${r.status}`;
  const out = `${r.stdout}${r.stderr}`.trim().slice(0, 800);
  return `${cmd} ${args.join(' ')} failed (${why})${out ? `: ${out}` : ''}`;
}

/**
 * Start every job at once, each in its own process; resolves when all have exited with
 * { wallMs, runs: [{ ms, status, stdout, stderr }] } (wall = first spawn to last exit).
 * jobs: [{ cmd, args, env, input, before }]; `before()` runs synchronously right before the
 * spawn (e.g. to put the main thread into the node's namespace, which the child inherits).
 */
export function runConcurrently(jobs, { timeoutMs = 120_000 } = {}) {
  const t0 = hr();
  return Promise.all(
    jobs.map(
      (j) =>
        new Promise((resolve) => {
          j.before?.();
          const s = hr();
          const child = spawn(j.cmd, j.args ?? [], { env: j.env, stdio: ['pipe', 'pipe', 'pipe'] });
          let stdout = '';
          let stderr = '';
          const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
          child.stdout.setEncoding('utf8').on('data', (d) => (stdout += d));
          child.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
          child.on('error', (e) => {
            clearTimeout(timer);
            resolve({ ms: Number(hr() - s) / 1e6, status: null, error: e, stdout, stderr });
          });
          child.on('close', (status, signal) => {
            clearTimeout(timer);
            resolve({ ms: Number(hr() - s) / 1e6, status, signal, stdout, stderr });
          });
          child.stdin.end(j.input ?? '');
        }),
    ),
  ).then((runs) => ({ wallMs: Number(hr() - t0) / 1e6, runs }));
}

/** Run up to `width` jobs at a time (to populate a bridge quickly); rejects on the first failure. */
export async function runInBatches(jobs, width) {
  let next = 0;
  const worker = async () => {
    while (next < jobs.length) {
      const j = jobs[next++];
      const { runs } = await runConcurrently([j]);
      const r = runs[0];
      if (r.status !== 0) throw new Error(describeFailure(j.cmd, j.args ?? [], r));
    }
  };
  await Promise.all(Array.from({ length: Math.min(width, jobs.length) }, worker));
}
