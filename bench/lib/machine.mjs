// What the benchmark ran on: one line for the report, and the details for the JSON.
import { spawnSync } from 'node:child_process';
import { cpus, loadavg, release, totalmem } from 'node:os';

export function loadAverage() {
  return loadavg().map((x) => Math.round(x * 100) / 100);
}

export function describeMachine(refDir) {
  const c = cpus();
  const model = (c[0]?.model ?? 'unknown CPU').replace(/\s+/g, ' ').trim();
  const memGiB = Math.round((totalmem() / 2 ** 30) * 10) / 10;
  const dpkg = spawnSync('dpkg-query', ['-W', '-f', '${Version}', 'containernetworking-plugins'], { encoding: 'utf8' });
  const refVersion = dpkg.status === 0 ? dpkg.stdout.trim() : undefined;
  let virt;
  const sd = spawnSync('systemd-detect-virt', [], { encoding: 'utf8' });
  if (sd.status === 0) virt = sd.stdout.trim();
  return {
    cores: c.length,
    cpu: model,
    memGiB,
    kernel: release(),
    node: process.version,
    virtualization: virt,
    reference: refVersion ? `containernetworking-plugins ${refVersion} (${refDir})` : refDir,
  };
}

/** "2 × Intel(R) ..., 23.4 GiB, Linux 6.1, Node v20.20.2, load 0.3 → 1.2 (1-min avg)". */
export function machineLine(m) {
  const load = m.load ? `, load average ${m.load.before[0]} before, ${m.load.after[0]} after (1 min)` : '';
  return `${m.cores} × ${m.cpu}${m.virtualization && m.virtualization !== 'none' ? ` (virtualization: ${m.virtualization})` : ''}, ${m.memGiB} GiB RAM, Linux ${m.kernel}, Node ${m.node}; reference: ${m.reference}${load}`;
}
