// The plugin side of the CNI protocol: env + stdin in, result or error JSON out.
// One invocation is a pure function of (environment, stdin) → (stdout, exit code),
// so that a resident host could later serve the same requests.
import { readPluginEnv, type PluginEnv } from './env.ts';
import { CniError, ErrorCode, toCniError } from './errors.ts';
import { decodeConfig, validateConfig, isObject, type NetConf } from './config.ts';
import { readAllStdin, writeStdout } from './io.ts';
import { CURRENT_VERSION, SUPPORTED_VERSIONS, isSupportedVersion } from './version.ts';
import { findPlugin, searchDirs } from './registry.ts';
import { log } from '../log/logger.ts';
import { enter, flushTrace, leave, traceInfo } from '../trace.ts';

type Env = Record<string, string | undefined>;

export interface Invocation {
  stdout: string;
  exitCode: number;
  /** For the invocation log line. */
  summary: { command: string; containerId: string; network: string; type: string; outcome: 'ok' | 'error'; code?: number; msg?: string };
}

/** Indented like the Go reference plugins print, so people can read it too. */
function pretty(v: unknown): string {
  return `${JSON.stringify(v, null, 4)}\n`;
}

/**
 * Run one CNI command. Never throws: every failure is an error answer.
 * `pluginName` is the name this process was exec'd as (CNI_PATH/<name>); it wins over the
 * config's `type`, which for a delegated IPAM call names the calling plugin.
 */
export async function invoke(procEnv: Env, readStdin: () => string, pluginName?: string): Promise<Invocation> {
  const summary: Invocation['summary'] = {
    command: procEnv.CNI_COMMAND ?? '',
    containerId: procEnv.CNI_CONTAINERID ?? '',
    network: '',
    type: '',
    outcome: 'ok',
  };
  // Errors carry the config's version once it is known and supported.
  let version: string = CURRENT_VERSION;
  try {
    const env = readPluginEnv(procEnv);
    if (env.command === 'VERSION') {
      // Like skel, VERSION does not read stdin: it must answer even with no input.
      return { stdout: pretty({ cniVersion: CURRENT_VERSION, supportedVersions: SUPPORTED_VERSIONS }), exitCode: 0, summary };
    }
    const tc = enter('cni.config');
    const text = readStdin();
    const raw = decodeConfig(text);
    if (typeof raw.cniVersion === 'string' && isSupportedVersion(raw.cniVersion)) version = raw.cniVersion;
    if (typeof raw.name === 'string') summary.network = raw.name;
    if (typeof raw.type === 'string') summary.type = raw.type;
    if (pluginName !== undefined) summary.type = pluginName;
    const config = validateConfig(raw, env.command);
    leave(tc);
    if (pluginName !== undefined && !PLUGIN_NAME_RE.test(pluginName)) {
      throw new CniError(ErrorCode.InvalidEnv, `invalid plugin name "${pluginName}" in the executable's name`);
    }
    const stdout = await dispatch(env, config, text, procEnv, pluginName ?? config.type);
    return { stdout, exitCode: 0, summary };
  } catch (e) {
    const err = toCniError(e);
    summary.outcome = 'error';
    summary.code = err.code;
    summary.msg = err.message;
    return { stdout: pretty(err.toJSON(version)), exitCode: 1, summary };
  }
}

const PLUGIN_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

async function dispatch(env: PluginEnv, config: NetConf, configText: string, procEnv: Env, type: string): Promise<string> {
  const tc = enter('cni.config');
  const { parseResult, convertResult, resultToJSON, prevResultFromConfig } = await import('./result.ts');
  // Validate prevResult (any version) now, so a plugin never sees a malformed one.
  prevResultFromConfig(config, config.cniVersion);
  leave(tc);
  // Trace: locating the plugin and require()ing the runtime bundle (the loader's own phases nest inside).
  const tl = enter('load.runtime');
  const plugin = await findPlugin(type, searchDirs(env, procEnv));
  leave(tl);
  const out = await plugin.run({ env, config, configText });
  if (env.command !== 'ADD') return '';
  if (!isObject(out)) {
    throw new CniError(ErrorCode.Internal, `plugin "${type}" returned no result for ADD`, `plugin: ${plugin.source}`);
  }
  const tr = enter('result');
  const json = resultToJSON(convertResult(parseResult(out, `result of plugin "${type}"`), config.cniVersion));
  leave(tr);
  return json;
}

/** Process entry for plugin mode. */
export async function runPlugin(pluginName?: string): Promise<void> {
  // Nothing but the CNI answer may reach stdout, whatever a dependency prints.
  console.log = console.error;
  console.info = console.error;
  const fatal = (e: unknown): void => {
    writeStdout(pretty(toCniError(e).toJSON(CURRENT_VERSION)));
    process.exit(1);
  };
  process.on('uncaughtException', fatal);
  process.on('unhandledRejection', fatal);

  const inv = await invoke(process.env, readAllStdin, pluginName);
  const to = enter('output');
  if (inv.stdout) writeStdout(inv.stdout);
  leave(to);
  // performance.now() counts from process start: the duration a runtime waits for.
  const durationMs = Math.round(performance.now() * 1000) / 1000;
  const s = inv.summary;
  const tg = enter('log');
  await log(
    s.outcome === 'ok' ? 'info' : 'warn',
    { command: s.command, containerId: s.containerId, network: s.network, type: s.type, durationMs, outcome: s.outcome, code: s.code },
    s.outcome === 'ok' ? `${s.command} ok` : `${s.command} failed: ${s.msg}`,
  );
  leave(tg);
  traceInfo('command', s.command);
  traceInfo('type', s.type);
  traceInfo('outcome', s.outcome);
  flushTrace();
  process.exitCode = inv.exitCode;
}
