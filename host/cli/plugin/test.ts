// `cni-wasm plugin test <file.wasm> --config <conf>`: run a plugin's ADD, CHECK and DEL the
// way a runtime would, in throwaway network namespaces, and print what it did: the result,
// and every host call it made (the audit trail of CNI_LOG_LEVEL=debug). Nothing runs in the
// machine's own network namespace: cni-wasm is exec'd inside a fresh "node" namespace, the
// container is a second fresh namespace, and both are removed afterwards, also on failure.
//
// The config is a single plugin's config (exec'd directly, CHECK and DEL given ADD's result
// as prevResult) or a network configuration list (run through `cni-wasm net`, libcni's way,
// so a chained plugin gets the previous plugin's result). Plugins other than the one under
// test are found as usual: the plugin directory's .wasm plugins, then CNI_PATH.
import type { Command } from 'commander';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { defaultPluginDir } from '../../cni/registry.ts';
import { install as installLauncher } from '../install.ts';
import { inspectBytes, readPluginFile, typeFromFile } from './inspect.ts';
import { checkTypeName, cniWasmEntry } from './paths.ts';
import { policyFilePath, readPolicyFile, withEntry, writePolicyFile } from './policy-edit.ts';

type Env = Record<string, string | undefined>;
export type Step = 'ADD' | 'CHECK' | 'DEL';

export const NETNS_PREFIX = 'cniw-ptest-';

export interface TestOptions {
  file: string;
  config: string;
  name?: string | undefined;
  /** Run under a grant of exactly what the plugin declares (a temporary policy). */
  grantDeclared?: boolean | undefined;
  policy?: string | undefined;
  pluginDir?: string | undefined;
  /** Directories for other plugins (default: env CNI_PATH, else /opt/cni/bin and /usr/lib/cni). */
  cniPath?: string | undefined;
  ifname?: string | undefined;
  env?: Env | undefined;
  /** Where the report goes, line by line. */
  out?: ((text: string) => void) | undefined;
}

export interface AuditLine {
  level: number;
  call?: string;
  args?: unknown;
  outcome?: string;
  error?: string;
  capability?: string;
  msg?: string;
  source?: string;
  plugin?: string;
  /** The invocation line (one per process) names the plugin as `type`. */
  type?: string;
  code?: number;
  audit?: boolean;
  durationMs?: number;
}

export interface StepResult {
  step: Step;
  ok: boolean;
  /** The binary's stdout (ADD's result, or a CNI error). */
  stdout: string;
  stderr: string;
  /** Log lines of the plugin under test: host calls, denials, its own log lines. */
  lines: AuditLine[];
}

export interface TestReport {
  ok: boolean;
  type: string;
  steps: StepResult[];
  namespaces: string[];
}

const LEVEL_NAME: Record<number, string> = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'fatal' };

function brief(v: unknown): string {
  if (v === undefined) return '';
  if (Array.isArray(v)) return v.map(brief).join(', ');
  if (typeof v === 'object' && v !== null) {
    return Object.entries(v as Record<string, unknown>)
      .filter(([, x]) => x !== undefined && x !== null && x !== false)
      .map(([k, x]) => (typeof x === 'object' ? `${k}={${brief(x)}}` : `${k}=${JSON.stringify(x)}`))
      .join(' ');
  }
  return JSON.stringify(v);
}

/** One audit or plugin log line as the report prints it. */
export function formatLine(l: AuditLine): string {
  if (l.source === 'plugin') return `log ${LEVEL_NAME[l.level] ?? l.level}: ${l.msg ?? ''}`;
  if (l.outcome === 'denied') return `DENIED ${l.call ?? ''} (missing capability ${l.capability ?? '?'}): ${l.msg ?? ''}`;
  if (l.outcome === 'summary') return `(${l.msg ?? ''})`;
  if (l.outcome === 'error') return `answered CNI error ${l.code ?? '?'}: ${l.msg ?? ''}`;
  if (l.call) {
    const args = brief(l.args);
    const res = l.outcome === 'ok' ? 'ok' : `${l.outcome ?? '?'}: ${l.error ?? ''}`;
    return `${l.call}(${args}) -> ${res}${l.durationMs !== undefined ? ` [${l.durationMs} ms]` : ''}`;
  }
  return `${LEVEL_NAME[l.level] ?? l.level}: ${l.msg ?? ''}`;
}

export function readLog(file: string, type: string): AuditLine[] {
  if (!existsSync(file)) return [];
  const out: AuditLine[] = [];
  for (const text of readFileSync(file, 'utf8').split('\n')) {
    if (!text.trim()) continue;
    let l: AuditLine;
    try {
      l = JSON.parse(text) as AuditLine;
    } catch {
      continue;
    }
    if ((l.plugin === type && (l.audit === true || l.source === 'plugin' || l.level >= 40)) || (l.type === type && l.outcome === 'error')) out.push(l);
  }
  return out;
}

function compactJson(text: string): string {
  try {
    return JSON.stringify(JSON.parse(text));
  } catch {
    return text;
  }
}

const indent = (text: string, by: string): string => text.replace(/^/gm, by);

/** Where each type of a config resolves, as the report's "plugins" line says. */
function resolveTypes(types: string[], pluginsDir: string, cniPath: string[], bin: string): string {
  return types
    .map((t) => {
      if (existsSync(join(pluginsDir, `${t}.wasm`))) return `${t} = wasm`;
      const dir = cniPath.find((d) => d !== bin && existsSync(join(d, t)));
      return `${t} = ${dir ? join(dir, t) : 'not found'}`;
    })
    .join(', ');
}

function ip(args: string[]): void {
  const r = spawnSync('ip', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ip ${args.join(' ')} failed: ${(r.stderr || r.error?.message || '').trim()}`);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const CNI_VARS = ['CNI_COMMAND', 'CNI_CONTAINERID', 'CNI_NETNS', 'CNI_IFNAME', 'CNI_ARGS', 'CNI_PATH', 'NETCONFPATH', 'CNI_CACHE_DIR', 'CAP_ARGS', 'CNI_WASM_PLUGIN_DIR', 'CNI_WASM_POLICY', 'CNI_LOG_LEVEL', 'CNI_LOG_FILE'];

/** Run the test. Throws for a setup problem; a failing plugin is a report with ok false. */
export function runPluginTest(o: TestOptions): TestReport {
  const env = o.env ?? process.env;
  const out = o.out ?? ((t: string) => void process.stdout.write(t));
  if (typeof process.getuid === 'function' && process.getuid() !== 0) throw new Error('plugin test needs root: it creates network namespaces (run it with sudo)');
  const file = resolve(o.file);
  const { bytes, sha256 } = readPluginFile(file);
  const info = inspectBytes(file, bytes, sha256);
  if (!info.accepted) throw new Error(`${file} would not load: ${info.refusal?.msg ?? 'not a plugin'}`);
  const type = checkTypeName(o.name ?? typeFromFile(file), 'plugin type');
  const configText = readFileSync(resolve(o.config), 'utf8');
  let conf: unknown;
  try {
    conf = JSON.parse(configText);
  } catch (e) {
    throw new Error(`${o.config} is not valid JSON: ${(e as Error).message}`);
  }
  if (!isObject(conf) || typeof conf.name !== 'string' || conf.name === '') throw new Error(`${o.config}: a network config needs a "name"`);
  const network = conf.name;
  const isList = Array.isArray(conf.plugins);
  const types = isList ? (conf.plugins as unknown[]).map((p) => (isObject(p) ? p.type : undefined)) : [conf.type];
  if (!types.includes(type)) {
    throw new Error(`${o.config} does not use plugin "${type}" (its types: ${types.map((t) => JSON.stringify(t)).join(', ')}); give the right --name or config`);
  }
  const ifname = o.ifname || env.CNI_IFNAME || 'eth0';
  const entry = cniWasmEntry();

  const id = randomBytes(4).toString('hex');
  const nodeNs = `${NETNS_PREFIX}${id}-node`;
  const ctrNs = `${NETNS_PREFIX}${id}-ctr`;
  const tmp = mkdtempSync(join(tmpdir(), 'cni-wasm-test-'));
  const made: string[] = [];
  const cleanup = (): void => {
    for (const n of made.splice(0)) spawnSync('ip', ['netns', 'del', n]);
    rmSync(tmp, { recursive: true, force: true });
  };
  const onSignal = (sig: NodeJS.Signals): void => {
    cleanup();
    process.exit(sig === 'SIGINT' ? 130 : 143);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    // The plugin directory: the real one's plugins, with the file under test as <type>.wasm.
    const plugins = join(tmp, 'plugins');
    mkdirSync(plugins);
    const realDir = resolve(o.pluginDir || defaultPluginDir(env));
    if (existsSync(realDir)) {
      for (const f of readdirSync(realDir)) if (f.endsWith('.wasm') && f !== `${type}.wasm`) symlinkSync(join(realDir, f), join(plugins, f));
    }
    copyFileSync(file, join(plugins, `${type}.wasm`));
    // Launchers, so that libcni finds each wasm plugin by its type on CNI_PATH.
    const bin = join(tmp, 'bin');
    const wasmTypes = readdirSync(plugins).filter((f) => f.endsWith('.wasm')).map((f) => f.slice(0, -5)).filter((t) => /^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(t));
    installLauncher({ dir: bin, plugins: wasmTypes, mode: 'launcher', force: false, entry, node: process.execPath });
    const cniPath = [bin, ...(o.cniPath ?? env.CNI_PATH ?? '/opt/cni/bin:/usr/lib/cni').split(':').filter((d) => d !== '' && existsSync(d))];

    const childEnv: Env = { ...env };
    for (const k of CNI_VARS) delete childEnv[k];
    Object.assign(childEnv, { CNI_WASM_PLUGIN_DIR: plugins, CNI_PATH: cniPath.join(':'), CNI_LOG_LEVEL: 'debug' });
    let grantFrom: string;
    if (o.grantDeclared) {
      const base = readPolicyFile(policyFilePath(o.policy, env));
      const policy = join(tmp, 'policy.json');
      writePolicyFile(policy, withEntry(base.doc, type, { grant: info.capabilities ?? { version: 1 } }));
      childEnv.CNI_WASM_POLICY = policy;
      grantFrom = `what it declares (--grant-declared): ${JSON.stringify(info.capabilities ?? { version: 1 })}`;
    } else {
      const path = policyFilePath(o.policy, env);
      if (existsSync(path)) childEnv.CNI_WASM_POLICY = path;
      else if (o.policy || env.CNI_WASM_POLICY) throw new Error(`the policy file ${path} does not exist`);
      grantFrom = existsSync(path) ? `the policy ${path}` : `the built-in policy (no ${path})`;
    }

    for (const n of [nodeNs, ctrNs]) {
      ip(['netns', 'add', n]);
      made.push(n);
      ip(['-n', n, 'link', 'set', 'lo', 'up']);
    }
    const ctrPath = `/var/run/netns/${ctrNs}`;
    out(`plugin "${type}" ${file}\n  sha256 ${sha256}\n`);
    out(`network "${network}" (${isList ? `list: ${types.join(' -> ')}` : 'single config'}), interface ${ifname}\n`);
    out(`namespaces ${nodeNs} (node: cni-wasm runs here) and ${ctrNs} (container)\n`);
    out(`grant: ${grantFrom}\n`);
    const allTypes = [...new Set(
      (isList ? (conf.plugins as unknown[]) : [conf]).flatMap((p) => (isObject(p) ? [p.type, isObject(p.ipam) ? p.ipam.type : undefined] : [])).filter((t): t is string => typeof t === 'string' && t !== type),
    )];
    if (allTypes.length) out(`other plugins: ${resolveTypes(allTypes, plugins, cniPath, bin)}\n`);

    const netd = join(tmp, 'net.d');
    if (isList) {
      mkdirSync(netd);
      writeFileSync(join(netd, '10-test.conflist'), configText);
    }
    const containerId = `cni-wasm-test-${id}`;
    const steps: StepResult[] = [];
    let addResult: unknown;
    const run = (step: Step): StepResult => {
      const logFile = join(tmp, `${step}.jsonl`);
      const e: Env = { ...childEnv, CNI_LOG_FILE: logFile };
      let argv: string[];
      let input = '';
      if (isList) {
        Object.assign(e, { NETCONFPATH: netd, CNI_IFNAME: ifname });
        argv = [entry, 'net', step.toLowerCase(), network, ctrPath, '--cache-dir', join(tmp, 'cache')];
      } else {
        Object.assign(e, { CNI_COMMAND: step, CNI_CONTAINERID: containerId, CNI_NETNS: ctrPath, CNI_IFNAME: ifname, CNI_ARGS: '' });
        argv = [entry];
        const c = { ...(conf as Record<string, unknown>) };
        if (step !== 'ADD' && addResult !== undefined) c.prevResult = addResult;
        input = JSON.stringify(c);
      }
      const r = spawnSync('ip', ['netns', 'exec', nodeNs, process.execPath, ...argv], { env: e as NodeJS.ProcessEnv, input, encoding: 'utf8', timeout: 120_000 });
      const res: StepResult = { step, ok: r.status === 0, stdout: r.stdout ?? '', stderr: r.stderr ?? '', lines: readLog(logFile, type) };
      if (r.signal === 'SIGINT' || r.signal === 'SIGTERM') onSignal(r.signal);
      return res;
    };
    const report = (s: StepResult): void => {
      out(`\n${s.step.padEnd(6)}${s.ok ? 'ok' : 'FAILED'}\n`);
      const text = s.stdout.trim();
      if (text) out(`  ${s.ok ? 'result' : 'error'}: ${compactJson(text)}\n`);
      if (!s.ok && s.stderr.trim()) out(`${indent(s.stderr.trim(), '  ')}\n`);
      const shown = s.lines.filter((l) => l.outcome !== 'summary');
      out(`  host calls by "${type}"${shown.length ? ':' : ': none'}\n`);
      for (const l of shown) out(`    ${formatLine(l)}\n`);
    };
    const add = run('ADD');
    steps.push(add);
    report(add);
    if (add.ok) {
      try {
        addResult = JSON.parse(add.stdout);
      } catch {
        addResult = undefined;
      }
      const check = run('CHECK');
      steps.push(check);
      report(check);
    }
    // DEL also after a failed ADD, as a runtime does, to clean up.
    const del = run('DEL');
    steps.push(del);
    report(del);
    const ok = steps.every((s) => s.ok) && steps.length === 3;
    out(`\n${ok ? 'passed' : 'FAILED'}: ${steps.map((s) => `${s.step} ${s.ok ? 'ok' : 'failed'}`).join(', ')}\n`);
    return { ok, type, steps, namespaces: [nodeNs, ctrNs] };
  } finally {
    cleanup();
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
    out(`removed namespaces ${nodeNs}, ${ctrNs} and ${tmp}\n`);
  }
}

export function registerTest(plugin: Command): void {
  plugin
    .command('test')
    .description('run ADD, CHECK and DEL in throwaway network namespaces and print the host calls the plugin made (needs root)')
    .argument('<file.wasm>', 'the plugin component')
    .requiredOption('--config <file>', 'a network config using the plugin, or a .conflist (e.g. bridge, then the plugin)')
    .option('--name <type>', 'the plugin type (default: the file name without .wasm)')
    .option('--grant-declared', 'run under a grant of exactly what the plugin declares, instead of the policy file')
    .option('--policy <file>', 'the policy file (default: env CNI_WASM_POLICY, else /etc/cni/cni-wasm/policy.json)')
    .option('--plugin-dir <dir>', 'where the other wasm plugins are (default: env CNI_WASM_PLUGIN_DIR, else plugins/ beside the binary)')
    .option('--cni-path <dirs>', 'directories of other plugins, ":"-separated (default: env CNI_PATH, else /opt/cni/bin:/usr/lib/cni)')
    .option('-i, --ifname <name>', 'the interface name in the container (default eth0)')
    .action((file: string, opts: { config: string; name?: string; grantDeclared?: boolean; policy?: string; pluginDir?: string; cniPath?: string; ifname?: string }) => {
      const r = runPluginTest({ file, ...opts });
      if (!r.ok) process.exitCode = 1;
    });
}
