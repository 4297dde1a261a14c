// The benchmark cannot rot: `node bench/run.mjs --quick` runs every scenario once (in its
// own throwaway namespaces) and must produce a well-formed JSON, a markdown report and SVG
// charts. Nothing here is about speed.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');
const SCENARIOS = ['null', 'seed', 'bridge-v4', 'dual-stack', 'vxlan', 'concurrency', 'scale', 'resident'];

interface Scenario {
  id: string;
  status: 'ok' | 'not available' | 'failed';
  reason?: string;
}

let out: string;
let run: ReturnType<typeof spawnSync>;

/** Tags balance and every attribute is quoted: enough to know a browser will parse it. */
function checkXml(text: string): void {
  const stack: string[] = [];
  const body = text.replace(/<\?xml[^>]*\?>/, '');
  for (const m of body.matchAll(/<(\/?)([a-zA-Z][\w:-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>/g)) {
    const [, close, name, , selfClose] = m;
    if (selfClose) continue;
    if (close) expect(stack.pop(), `closing </${name}>`).toBe(name);
    else stack.push(name!);
  }
  expect(stack).toEqual([]);
  // Nothing that looks like a tag was left unmatched by the pattern above (e.g. an unquoted attribute).
  const tags = body.match(/<[^>]*>/g) ?? [];
  const matched = [...body.matchAll(/<(\/?)([a-zA-Z][\w:-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>/g)];
  expect(matched.length).toBe(tags.length);
}

beforeAll(() => {
  out = mkdtempSync(join(tmpdir(), 'cniw-bench-quick-'));
  run = spawnSync(process.execPath, [join(ROOT, 'bench', 'run.mjs'), '--quick', '--out', out, '--name', 'quick'], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 170_000,
  });
}, 180_000);

afterAll(() => {
  rmSync(out, { recursive: true, force: true });
});

describe('bench/run.mjs --quick', () => {
  it('runs every scenario to the end and exits 0', () => {
    expect(run.error).toBeUndefined();
    expect(run.status, String(run.stderr)).toBe(0);
  });

  it('writes a JSON with every scenario, none failed', () => {
    const res = JSON.parse(readFileSync(join(out, 'quick.json'), 'utf8'));
    expect(res.quick).toBe(true);
    expect(res.machine.cores).toBeGreaterThan(0);
    const ids = (res.scenarios as Scenario[]).map((s) => s.id);
    expect(ids).toEqual(SCENARIOS);
    for (const s of res.scenarios as Scenario[]) expect(['ok', 'not available'], `${s.id}: ${s.status} ${s.reason ?? ''}`).toContain(s.status);
    // Where a scenario ran, the traced run gave a phase breakdown that adds up to its wall time.
    const seed = (res.scenarios as (Scenario & { trace?: { add: { phases: Record<string, number>; wallMs: number } } })[]).find((s) => s.id === 'seed');
    if (seed?.status === 'ok') {
      const t = seed.trace!.add;
      const sum = Object.values(t.phases).reduce((a, b) => a + b, 0);
      expect(Math.abs(sum - t.wallMs)).toBeLessThan(1);
      expect(t.phases['kernel.netlink']).toBeGreaterThan(0);
    }
  });

  it('writes a markdown report whose SVG charts exist and are well-formed', () => {
    const md = readFileSync(join(out, 'quick.md'), 'utf8');
    expect(md).toMatch(/^# cni-wasm benchmark/);
    expect(md).toContain('## Headline');
    const images = [...md.matchAll(/!\[[^\]]*\]\(([^)]+)\)/g)].map((m) => m[1]!);
    expect(images.length).toBeGreaterThan(0);
    for (const f of images) expect(existsSync(join(out, f)), f).toBe(true);
    const svgs = readdirSync(out).filter((f) => f.endsWith('.svg'));
    expect(svgs).toContain('quick-latency.svg');
    for (const f of svgs) {
      const text = readFileSync(join(out, f), 'utf8');
      expect(text.startsWith('<svg xmlns="http://www.w3.org/2000/svg"'), f).toBe(true);
      checkXml(text);
    }
  });

  it('leaves no namespace behind', () => {
    const list = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout;
    expect(list.split('\n').filter((l) => l.startsWith(`cniwb-${run.pid}-`))).toEqual([]);
  });
});
