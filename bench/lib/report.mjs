// The benchmark report: <name>.json (everything measured), <name>.md (read in a browser or on
// the repository page) and SVG charts beside it. Re-render from a JSON without rerunning:
//   node bench/lib/report.mjs bench/results/<name>.json
import { readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { machineLine } from './machine.mjs';
import { barChart, stackedChart } from './svg.mjs';
import { GROUPS, PHASES, phaseKeys } from './trace.mjs';

const REF = '#4e79a7';
const WASM = '#f28e2b';
const GREY = '#8c8c8c';

const ms = (x) => (x === undefined || x === null ? '–' : x >= 100 ? x.toFixed(0) : x.toFixed(1));
const pct = (x, total) => (total > 0 ? `${Math.round((100 * x) / total)}%` : '–');
const ratioWords = (r) => (r === undefined ? '–' : r >= 1 ? `${r.toFixed(2)}× (slower)` : `${r.toFixed(2)}× (${(1 / r).toFixed(2)}× faster)`);
const stat4 = (s) => (s && s.n ? `${ms(s.median)} / ${ms(s.p90)} / ${ms(s.min)} / ${ms(s.max)}` : '–');

function latencyChart(res) {
  const groups = [];
  for (const s of res.scenarios) {
    if (s.kind === 'floor' && s.status !== 'not available' && s.stats) {
      const bars = [
        ['node -e 0', s.stats.nodeE0, GREY],
        ...(s.stats.goVersion ? [['Go plugin VERSION', s.stats.goVersion, REF]] : []),
        ['cni-wasm VERSION', s.stats.version, WASM],
        ['cni-wasm null ADD', s.stats.nullAdd, WASM],
        ['cni-wasm null DEL', s.stats.nullDel, WASM],
      ];
      groups.push({ label: s.title, bars: bars.map(([label, st, color]) => ({ label, value: st?.median, lo: st?.min, hi: st?.p90, color })) });
    }
    if (s.kind === 'resident' && s.wasm) {
      const seed = res.scenarios.find((x) => x.id === 'seed');
      const bars = [];
      for (const op of ['add', 'del']) {
        const OP = op.toUpperCase();
        const ref = seed?.ref?.[`${op}Stats`];
        if (ref?.n) bars.push({ label: `${OP} Go reference (seed)`, value: ref.median, lo: ref.min, hi: ref.p90, color: REF });
        const st = s.wasm[`${op}Stats`];
        bars.push({ label: `${OP} cni-wasm, warm process`, value: st.median, lo: st.min, hi: st.p90, color: WASM });
      }
      groups.push({ label: s.title, bars });
    }
    if (s.kind !== 'latency') continue;
    if (s.status === 'not available') {
      groups.push({ label: s.title, bars: [{ label: 'cni-wasm', value: undefined, note: `not available: ${s.reason}`, color: WASM }] });
      continue;
    }
    const bars = [];
    for (const op of ['add', 'del']) {
      const OP = op.toUpperCase();
      bars.push(
        s.ref
          ? { label: `${OP} Go reference`, value: s.ref[`${op}Stats`].median, lo: s.ref[`${op}Stats`].min, hi: s.ref[`${op}Stats`].p90, color: REF }
          : { label: `${OP} Go reference`, value: undefined, note: s.reference ?? 'none', color: REF },
      );
      const st = s.wasm?.[`${op}Stats`];
      const ratio = s.ratio?.[op]?.median;
      bars.push({ label: `${OP} cni-wasm`, value: st?.median, lo: st?.min, hi: st?.p90, color: WASM, note: ratio ? `(×${ratio.toFixed(2)})` : s.status === 'failed' ? 'failed' : undefined });
    }
    groups.push({ label: s.title, bars });
  }
  return barChart({
    title: 'Latency per invocation: Go reference plugins vs cni-wasm (median; whisker min–p90)',
    groups,
    legend: [
      { label: 'Go reference', color: REF },
      { label: 'cni-wasm', color: WASM },
      { label: 'node -e 0', color: GREY },
    ],
    caption: '(×r) = cni-wasm / reference, median of ratios taken pair by pair (alternating runs)',
  });
}

function phaseRows(res) {
  const rows = [];
  for (const s of res.scenarios) {
    if (!s.trace) continue;
    for (const op of s.kind === 'floor' ? ['add'] : ['add', 'del']) {
      const t = s.trace[op];
      if (!t) continue;
      rows.push({ label: `${s.kind === 'floor' ? 'null plugin' : s.id} ${op.toUpperCase()} cni-wasm`, segments: PHASES.map(([key]) => ({ key, value: t.phases[key] ?? 0 })), note: '' });
      const ref = s.ref?.[`${op}Stats`];
      if (ref?.n) rows.push({ label: `${s.id} ${op.toUpperCase()} Go reference`, segments: [{ key: 'reference', value: ref.mean }], note: '(total)' });
    }
  }
  return rows;
}

/** The same runs by group only: the answer to "how much is Node, the sandbox, the kernel". */
function groupsChart(res) {
  const rows = phaseRows(res).map((r) => {
    if (r.segments[0]?.key === 'reference') return r;
    const sum = {};
    for (const s of r.segments) {
      const g = PHASES.find(([k]) => k === s.key)?.[1];
      if (g) sum[g] = (sum[g] ?? 0) + s.value;
    }
    return { ...r, segments: Object.keys(GROUPS).map((g) => ({ key: g, value: sum[g] ?? 0 })) };
  });
  const keys = [...Object.entries(GROUPS).map(([key, g]) => ({ key, label: g.label, color: g.color })), { key: 'reference', label: 'Go reference (whole run)', color: '#3a3a3a' }];
  return stackedChart({
    title: 'cni-wasm by group: Node start-up, host, wasm sandbox, host API, kernel, exit (mean ms)',
    rows,
    keys,
    caption: ['Traced runs (CNI_WASM_TRACE=1); the detailed phases are in the next chart.'],
  });
}

function phasesChart(res) {
  const keys = [...phaseKeys(), { key: 'reference', label: 'Go reference (whole run)', color: '#3a3a3a' }];
  return stackedChart({
    title: 'Where cni-wasm’s time goes (traced runs, mean ms per phase)',
    rows: phaseRows(res),
    keys,
    caption: [
      'Blues: Node start-up. Browns: host TypeScript. Oranges: wasm sandbox. Purple: host API.',
      'Greens: kernel (system calls). Red: native IPAM exec. Light grey: exit. Dark grey: the Go reference, whole run.',
      'Phases are exclusive and add up to the wall time the parent measured (CNI_WASM_TRACE=1, host/trace.ts).',
    ],
  });
}

function scaleChart(s) {
  const groups = (s.byLevel ?? []).map((row) => ({
    label: `${row.level} container${row.level === 1 ? '' : 's'} already on the bridge`,
    bars: [
      ...(row.ref ? [{ label: 'ADD Go reference', value: row.ref.addStats.median, lo: row.ref.addStats.min, hi: row.ref.addStats.p90, color: REF }] : []),
      { label: 'ADD cni-wasm', value: row.wasm.addStats.median, lo: row.wasm.addStats.min, hi: row.wasm.addStats.p90, color: WASM, note: row.ratio ? `(×${row.ratio.add.median.toFixed(2)})` : undefined },
      ...(row.ref ? [{ label: 'DEL Go reference', value: row.ref.delStats.median, lo: row.ref.delStats.min, hi: row.ref.delStats.p90, color: REF }] : []),
      { label: 'DEL cni-wasm', value: row.wasm.delStats.median, lo: row.wasm.delStats.min, hi: row.wasm.delStats.p90, color: WASM, note: row.ratio ? `(×${row.ratio.del.median.toFixed(2)})` : undefined },
    ],
  }));
  return barChart({
    title: 'Scale: one more container on a populated bridge (seed config; median, whisker min–p90)',
    groups,
    legend: [
      { label: 'Go reference', color: REF },
      { label: 'cni-wasm', color: WASM },
    ],
  });
}

function concurrencyChart(s) {
  const bar = (rows, key, label, color) => {
    const xs = (rows ?? []).map((r) => r[key]);
    if (!xs.length) return { label, value: undefined, color, note: 'none' };
    const sorted = [...xs].sort((a, b) => a - b);
    return { label, value: sorted[Math.floor((sorted.length - 1) / 2)], lo: sorted[0], hi: sorted[sorted.length - 1], color };
  };
  return barChart({
    title: `Concurrency: ${s.n} at once onto one bridge (wall time, median of ${s.rounds} rounds)`,
    caption: 'whisker: min–max over the rounds',
    groups: [
      { label: `${s.n} ADDs at once`, bars: [bar(s.ref, 'addWallMs', 'Go reference', REF), bar(s.wasm, 'addWallMs', 'cni-wasm', WASM)] },
      { label: `${s.n} DELs at once`, bars: [bar(s.ref, 'delWallMs', 'Go reference', REF), bar(s.wasm, 'delWallMs', 'cni-wasm', WASM)] },
    ],
    legend: [
      { label: 'Go reference', color: REF },
      { label: 'cni-wasm', color: WASM },
    ],
  });
}

/** The markdown report. `svg` maps chart names to file names. */
export function renderMarkdown(res, svg) {
  const L = [];
  const by = Object.fromEntries(res.scenarios.map((s) => [s.id, s]));
  L.push(`# cni-wasm benchmark — ${res.name}${res.quick ? ' (quick: every scenario once, figures not meaningful)' : ''}`);
  L.push('');
  L.push(`**Machine:** ${machineLine(res.machine)}.  `);
  L.push(
    `**Run:** ${res.date.slice(0, 16).replace('T', ' ')} UTC, commit ${res.build.commit ?? '?'}${res.build.dirty ? ' (with uncommitted changes)' : ''}, ${res.options.runs} alternating runs per scenario after ${res.options.warmup} warm-up, ${res.seconds} s in all (\`npm run bench\`; how to read it: [docs/benchmark.md](../../docs/benchmark.md)).`,
  );
  L.push('');

  // ---- headline
  L.push('## Headline');
  L.push('');
  const lat = res.scenarios.filter((s) => s.kind === 'latency');
  for (const s of lat) {
    if (s.status !== 'ok' && !s.wasm?.add?.length) {
      L.push(`- **${s.title}**: ${s.status}${s.reason ? ` — ${s.reason}` : ''}.`);
      continue;
    }
    if (s.ratio) {
      L.push(
        `- **${s.title}**: ADD ${ms(s.wasm.addStats.median)} ms vs ${ms(s.ref.addStats.median)} ms for the reference → **${ratioWords(s.ratio.add.median)}**, +${ms(s.diff.add.median)} ms; DEL ${ms(s.wasm.delStats.median)} vs ${ms(s.ref.delStats.median)} ms → ${ratioWords(s.ratio.del.median)}.`,
      );
    } else {
      L.push(`- **${s.title}**: ADD ${ms(s.wasm.addStats.median)} ms, DEL ${ms(s.wasm.delStats.median)} ms (cni-wasm only: ${s.reference}).`);
    }
  }
  const fl = by.null;
  if (fl?.stats?.nullAdd?.n) {
    const st = fl.stats;
    L.push(
      `- **Floor:** the null plugin's ADD takes ${ms(st.nullAdd.median)} ms against ${ms(st.nodeE0.median)} ms for \`node -e 0\` (×${fl.ratioToNode.nullAdd.median.toFixed(2)}, +${ms(fl.overNodeMs.nullAdd.median)} ms); VERSION, which loads no runtime, ${ms(st.version.median)} ms (×${fl.ratioToNode.version.median.toFixed(2)})${st.goVersion ? `; a Go plugin's VERSION ${ms(st.goVersion.median)} ms` : ''}${st.launcherAdd ? `; through the \`cni-wasm install\` launcher (/bin/sh, as a runtime execs it) the null ADD takes ${ms(st.launcherAdd.median)} ms` : ''}.`,
    );
  }
  const tr = lat.filter((s) => s.trace?.add);
  if (tr.length) {
    L.push(`- **Where the time goes** (cni-wasm ADD, traced runs, share of the wall time):`);
    for (const s of [...(fl?.trace ? [fl] : []), ...tr]) {
      const g = s.trace.add.groups;
      const w = s.trace.add.wallMs;
      const sand = g.sandbox ?? 0;
      L.push(
        `  - ${s.kind === 'floor' ? 'null plugin' : s.id}: Node start-up ${ms(g.startup)} ms (${pct(g.startup, w)}), wasm sandbox ${ms(sand)} ms (${pct(sand, w)}), host API ${ms(g.hostapi ?? 0)} ms (${pct(g.hostapi ?? 0, w)}), kernel ${ms(g.kernel ?? 0)} ms (${pct(g.kernel ?? 0, w)}), host TypeScript ${ms(g.host)} ms (${pct(g.host, w)})${g.ipam ? `, native IPAM exec ${ms(g.ipam)} ms (${pct(g.ipam, w)})` : ''}, exit ${ms(g.exit)} ms (${pct(g.exit, w)}) — of ${ms(w)} ms.`,
      );
    }
  }
  const rs = by.resident;
  if (rs?.wasm?.addStats?.n) {
    const seed = by.seed;
    L.push(
      `- **A resident host** (estimate: the same host code, seed config, called again and again in one warm process) would take ${ms(rs.wasm.addStats.median)} ms per ADD and ${ms(rs.wasm.delStats.median)} ms per DEL${seed?.ref ? `, against ${ms(seed.ref.addStats.median)} / ${ms(seed.ref.delStats.median)} ms for the reference and ${ms(seed.wasm.addStats.median)} / ${ms(seed.wasm.delStats.median)} ms for cni-wasm exec'd per call` : ''}: Node's start-up, module loading and cold code are what a process per call costs.`,
    );
  } else if (rs) L.push(`- **Resident host estimate**: ${rs.status}${rs.reason ? ` — ${rs.reason}` : ''}.`);
  const cc = by.concurrency;
  if (cc?.wasmSummary?.addWall?.n) {
    const okText = (rows) => (rows?.every((r) => r.ok) ? `all ${cc.n} addresses unique, all released after DEL` : 'NOT all unique/released: see below');
    L.push(
      `- **Concurrency** (${cc.n} ADDs at once, seed config): cni-wasm ${ms(cc.wasmSummary.addWall.median)} ms wall${cc.refSummary?.addWall?.n ? ` vs ${ms(cc.refSummary.addWall.median)} ms for the reference (×${cc.ratio.addWall.median.toFixed(2)})` : ''}; DELs ${ms(cc.wasmSummary.delWall.median)}${cc.refSummary?.delWall?.n ? ` vs ${ms(cc.refSummary.delWall.median)}` : ''} ms; cni-wasm: ${okText(cc.wasm)}${cc.ref ? `; reference: ${okText(cc.ref)}` : ''}.`,
    );
  } else if (cc) L.push(`- **Concurrency**: ${cc.status}${cc.reason ? ` — ${cc.reason}` : ''}.`);
  const sc = by.scale;
  if (sc?.byLevel?.length) {
    L.push(
      `- **Scale** (ADD onto a bridge already holding k containers): ${sc.byLevel.map((r) => `k=${r.level}: ${ms(r.wasm.addStats.median)} ms${r.ref ? ` vs ${ms(r.ref.addStats.median)} (×${r.ratio.add.median.toFixed(2)})` : ''}`).join('; ')}.`,
    );
  } else if (sc) L.push(`- **Scale**: ${sc.status}${sc.reason ? ` — ${sc.reason}` : ''}.`);
  L.push('');

  // ---- latency
  L.push('## Latency');
  L.push('');
  L.push(`![latency per scenario](${svg.latency})`);
  L.push('');
  L.push('ms, median / p90 / min / max over the runs; ratio = cni-wasm ÷ reference, taken pair by pair (median, and min–max of the pairs).');
  L.push('');
  L.push('| scenario | op | Go reference | cni-wasm | ratio | cni-wasm − reference |');
  L.push('|---|---|---|---|---|---|');
  for (const s of lat) {
    if (!s.wasm) {
      L.push(`| ${s.title} | | ${s.status}: ${s.reason ?? ''} | | | |`);
      continue;
    }
    for (const op of ['add', 'del']) {
      const r = s.ratio?.[op];
      L.push(
        `| ${s.title} | ${op.toUpperCase()} | ${s.ref ? stat4(s.ref[`${op}Stats`]) : (s.reference ?? '–')} | ${stat4(s.wasm[`${op}Stats`])} | ${r?.n ? `${r.median.toFixed(2)} (${r.min.toFixed(2)}–${r.max.toFixed(2)})` : '–'} | ${s.diff ? `${ms(s.diff[op].median)} ms` : '–'} |`,
      );
    }
  }
  if (rs?.wasm) {
    for (const op of ['add', 'del']) L.push(`| ${rs.title} | ${op.toUpperCase()} | (see seed) | ${stat4(rs.wasm[`${op}Stats`])} | | |`);
  }
  if (fl?.stats) {
    L.push('');
    L.push(`**Floor** (${fl.title}; ratio to \`node -e 0\` pair by pair):`);
    L.push('');
    L.push('| run | median / p90 / min / max | ratio to node -e 0 | over node -e 0 |');
    L.push('|---|---|---|---|');
    const names = { nodeE0: '`node -e 0`', goVersion: 'Go plugin (bridge) VERSION', version: 'cni-wasm VERSION', nullAdd: 'cni-wasm null ADD', nullDel: 'cni-wasm null DEL', launcherAdd: 'cni-wasm null ADD via the sh launcher', tracedAdd: 'cni-wasm null ADD, traced' };
    for (const [k, label] of Object.entries(names)) {
      if (!fl.stats[k]?.n) continue;
      const r = fl.ratioToNode?.[k];
      const d = fl.overNodeMs?.[k];
      L.push(`| ${label} | ${stat4(fl.stats[k])} | ${r ? r.median.toFixed(2) : ''} | ${d ? `${ms(d.median)} ms` : ''} |`);
    }
  }
  L.push('');

  // ---- phases
  const rows = phaseRows(res);
  if (rows.length) {
    L.push('## Where the time goes');
    L.push('');
    L.push(`![cni-wasm by group](${svg.groups})`);
    L.push('');
    L.push(`![phases of cni-wasm](${svg.phases})`);
    L.push('');
    const traced = res.scenarios.filter((s) => s.trace);
    const cols = traced.flatMap((s) => (s.kind === 'floor' ? [[s, 'add']] : [[s, 'add'], [s, 'del']]));
    L.push(`Mean ms per phase over the traced runs (phases are exclusive: nested work counts once, in its own phase).`);
    L.push('');
    L.push(`| phase | group | ${cols.map(([s, op]) => `${s.kind === 'floor' ? 'null' : s.id} ${op.toUpperCase()}`).join(' | ')} |`);
    L.push(`|---|---|${cols.map(() => '---:').join('|')}|`);
    for (const [key, group, label] of PHASES) {
      if (!cols.some(([s, op]) => (s.trace[op].phases[key] ?? 0) > 0.005)) continue;
      L.push(`| ${label} | ${GROUPS[group].label} | ${cols.map(([s, op]) => ms(s.trace[op].phases[key] ?? 0)).join(' | ')} |`);
    }
    for (const g of Object.keys(GROUPS)) {
      if (!cols.some(([s, op]) => (s.trace[op].groups[g] ?? 0) > 0.005)) continue;
      L.push(`| **${GROUPS[g].label}** | | ${cols.map(([s, op]) => `**${ms(s.trace[op].groups[g] ?? 0)}** (${pct(s.trace[op].groups[g] ?? 0, s.trace[op].wallMs)})`).join(' | ')} |`);
    }
    L.push(`| **wall (traced runs)** | | ${cols.map(([s, op]) => `**${ms(s.trace[op].wallMs)}**`).join(' | ')} |`);
    const over = traced.filter((s) => s.trace.overheadMs?.n);
    if (over.length) {
      L.push('');
      L.push(`Tracing itself costs ${over.map((s) => `${ms(s.trace.overheadMs.median)} ms (${s.kind === 'floor' ? 'null' : s.id})`).join(', ')} per ADD (traced minus untraced run of the same iteration, median); the latency figures above come from untraced runs.`);
    }
    // host calls
    const hc = traced.filter((s) => Object.keys(s.trace.add.hostCalls ?? {}).length);
    if (hc.length) {
      L.push('');
      L.push('### Host calls by kind (per ADD, mean)');
      L.push('');
      L.push('`plugin:call` — count, total ms (inclusive: a delegated IPAM call includes the nested plugin), of which kernel ms.');
      L.push('');
      for (const s of hc) {
        const calls = Object.entries(s.trace.add.hostCalls).sort((a, b) => b[1].ms - a[1].ms);
        L.push(`<details><summary>${s.title}: ${calls.reduce((a, [, v]) => a + v.n, 0).toFixed(0)} host calls</summary>`);
        L.push('');
        L.push('| call | count | ms | kernel ms |');
        L.push('|---|---:|---:|---:|');
        for (const [k, v] of calls) L.push(`| ${k} | ${v.n.toFixed(v.n % 1 ? 1 : 0)} | ${v.ms.toFixed(2)} | ${v.kernelMs.toFixed(2)} |`);
        const kern = Object.entries(s.trace.add.kernel ?? {});
        if (kern.length) L.push(`| *kernel by kind* | | | ${kern.map(([k, v]) => `${k} ${v.ms.toFixed(2)} (${v.n.toFixed(0)}×)`).join(', ')} |`);
        L.push('');
        L.push('</details>');
        L.push('');
      }
    }
    L.push('');
  }

  // ---- concurrency
  if (cc) {
    L.push('## Concurrency');
    L.push('');
    if (svg.concurrency) L.push(`![concurrency](${svg.concurrency})`, '');
    L.push(`${cc.title}: every process started at once (separate processes, as a runtime starting ${cc.n} pods); the bridge existed already. ${cc.status !== 'ok' ? `**${cc.status}**: ${cc.reason ?? ''}` : ''}`);
    L.push('');
    L.push('| implementation | round | ADD wall ms | per-process ADD median / max | DEL wall ms | addresses unique | allocations left after DEL | bridge ports after DEL |');
    L.push('|---|---:|---:|---|---:|---|---:|---:|');
    for (const id of ['ref', 'wasm']) {
      for (const r of cc[id] ?? []) {
        L.push(
          `| ${id === 'ref' ? 'Go reference' : 'cni-wasm'} | ${r.round + 1} | ${ms(r.addWallMs)} | ${ms(r.addPerProcess.median)} / ${ms(r.addPerProcess.max)} | ${ms(r.delWallMs)} | ${r.uniqueAddresses}/${cc.n}${r.addFailed ? ` (${r.addFailed} failed)` : ''} | ${r.allocationsAfterDel} | ${r.bridgePortsAfterDel} |`,
        );
      }
    }
    L.push('');
  }

  // ---- scale
  if (sc) {
    L.push('## Scale');
    L.push('');
    if (svg.scale) L.push(`![scale](${svg.scale})`, '');
    L.push(
      `One more container (ADD, then DEL) on a node whose bridge already holds k containers, each a real namespace with a veth, an address and (ipMasq) a masquerade rule, made by the implementation under test (its own IPAM state and rules), in parallel batches, not measured. ${sc.status !== 'ok' ? `**${sc.status}**: ${sc.reason ?? ''}` : ''}`,
    );
    L.push('');
    L.push('| k | Go reference ADD | cni-wasm ADD | ratio | Go reference DEL | cni-wasm DEL | ratio | cni-wasm traced ADD: sandbox / host API / kernel ms | its costliest host calls |');
    L.push('|---:|---|---|---:|---|---|---:|---|---|');
    for (const r of sc.byLevel ?? []) {
      const g = r.trace?.add?.groups ?? {};
      // Delegated IPAM calls are inclusive (the nested plugin's calls are listed themselves).
      const top = Object.entries(r.trace?.add?.hostCalls ?? {})
        .filter(([k]) => !k.includes(':ipam.'))
        .sort((a, b) => b[1].ms - a[1].ms)
        .slice(0, 3)
        .map(([k, v]) => `${k} ${v.n.toFixed(0)}× ${ms(v.ms)} ms`)
        .join('; ');
      L.push(
        `| ${r.level} | ${r.ref ? stat4(r.ref.addStats) : '–'} | ${stat4(r.wasm.addStats)} | ${r.ratio ? r.ratio.add.median.toFixed(2) : '–'} | ${r.ref ? stat4(r.ref.delStats) : '–'} | ${stat4(r.wasm.delStats)} | ${r.ratio ? r.ratio.del.median.toFixed(2) : '–'} | ${ms(g.sandbox ?? 0)} / ${ms(g.hostapi ?? 0)} / ${ms(g.kernel ?? 0)} | ${top} |`,
      );
    }
    L.push('');
  }

  // ---- method
  L.push('## How this was measured');
  L.push('');
  L.push(
    '- Every plugin runs as a runtime runs it: a fresh process, the CNI environment (nothing else but PATH), the config on stdin, inside a throwaway "node" network namespace, with the container in another throwaway namespace. cni-wasm is exec\'d through the launcher `cni-wasm install` writes (`/bin/sh` → node); the reference plugins are the Debian Go binaries. Wall time is from just before the spawn to the parent seeing the exit.',
  );
  L.push('- Reference and cni-wasm run alternately (ADD ref, ADD cni-wasm, DEL ref, DEL cni-wasm, then a traced cni-wasm ADD and DEL), each on its own node namespace with the same config; ratios are taken pair by pair so that machine noise hits both members of a pair.');
  L.push('- The phase breakdown comes from the traced runs (`CNI_WASM_TRACE=1`, host/trace.ts); exec and exit are placed with the child\'s CLOCK_MONOTONIC marks against the parent\'s. "Kernel" is time blocked in system calls the host makes for the plugin: netlink send/receive and socket creation (rtnetlink and nf_tables), sysctl files with their namespace switch, opening namespaces, the IPAM store\'s files and lock.');
  L.push('- Quantiles are nearest-rank; stacked phases are means (means add up, medians do not).');
  const loads = res.scenarios.filter((s) => s.loadAtStart).map((s) => `${s.id} ${s.loadAtStart[0]}`);
  if (loads.length) L.push(`- 1-minute load average when each scenario started (the benchmark's own bursts raise it too): ${loads.join(', ')}.`);
  L.push('');
  return `${L.join('\n')}\n`;
}

/** Write <name>.json, <name>.md and the SVGs into `dir`; returns the files written. */
export function writeReport(res, dir, name) {
  const files = [];
  const put = (file, text) => {
    const p = join(dir, file);
    writeFileSync(p, text);
    files.push(p);
    return file;
  };
  put(`${name}.json`, `${JSON.stringify(res, null, 1)}\n`);
  const svg = {};
  svg.latency = put(`${name}-latency.svg`, latencyChart(res));
  if (phaseRows(res).length) {
    svg.groups = put(`${name}-groups.svg`, groupsChart(res));
    svg.phases = put(`${name}-phases.svg`, phasesChart(res));
  }
  const cc = res.scenarios.find((s) => s.id === 'concurrency');
  if (cc && (cc.ref?.length || cc.wasm?.length)) svg.concurrency = put(`${name}-concurrency.svg`, concurrencyChart(cc));
  const sc = res.scenarios.find((s) => s.id === 'scale');
  if (sc?.byLevel?.length) svg.scale = put(`${name}-scale.svg`, scaleChart(sc));
  put(`${name}.md`, renderMarkdown(res, svg));
  return files;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const file = process.argv[2];
  if (!file) throw new Error('usage: node bench/lib/report.mjs <results.json>');
  const res = JSON.parse(readFileSync(file, 'utf8'));
  for (const f of writeReport(res, dirname(resolve(file)), basename(file, '.json'))) console.log(`wrote ${f}`);
}
