// Exec one plugin binary the way libcni's pkg/invoke does: environment = this process's
// environment with the CNI_* variables set over it, config on stdin, result or error JSON
// on stdout. A plugin's error JSON becomes a CniError with the plugin's own code/msg/details.
import { spawn } from 'node:child_process';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { CniError, ErrorCode } from '../errors.ts';
import { isObject } from './gojson.ts';

export interface InvokeArgs {
  command: string;
  containerId: string;
  netns: string;
  /** CNI_ARGS pairs; joined as `K=V;K=V`. */
  pluginArgs: [string, string][];
  ifName: string;
  /** Directories, joined with ':' into CNI_PATH. */
  path: string[];
}

/** The CNI_* environment for one call, over the given base environment. */
export function argsAsEnv(args: InvokeArgs, base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  return {
    ...base,
    CNI_COMMAND: args.command,
    CNI_CONTAINERID: args.containerId,
    CNI_NETNS: args.netns,
    CNI_ARGS: args.pluginArgs.map(([k, v]) => `${k}=${v}`).join(';'),
    CNI_IFNAME: args.ifName,
    CNI_PATH: args.path.join(':'),
  };
}

/** How plugins are found and run; tests may replace it. */
export interface PluginExec {
  findInPath(plugin: string, paths: readonly string[]): string;
  /** Run the plugin; resolves to its stdout, rejects with a CniError on failure. */
  execPlugin(pluginPath: string, stdin: Buffer, env: NodeJS.ProcessEnv): Promise<Buffer>;
}

/** Find `plugin` as a regular file in the first of `paths` that has it. */
export function findInPath(plugin: string, paths: readonly string[]): string {
  if (plugin === '') throw new CniError(ErrorCode.InvalidConfig, 'no plugin name provided');
  if (plugin.includes('/')) throw new CniError(ErrorCode.InvalidConfig, `invalid plugin name: ${plugin}`);
  if (paths.length === 0) {
    throw new CniError(ErrorCode.InvalidEnv, `failed to find plugin "${plugin}": no paths provided`, 'set CNI_PATH to the directories holding CNI plugin binaries');
  }
  for (const dir of paths) {
    const full = join(dir, plugin);
    try {
      if (statSync(full).isFile()) return full;
    } catch {
      /* not here */
    }
  }
  throw new CniError(
    ErrorCode.InvalidEnv,
    `failed to find plugin "${plugin}" in path [${paths.join(' ')}]`,
    `searched CNI_PATH directories: ${paths.join(', ')}`,
  );
}

/** The error a failed plugin reported, as libcni's RawExec.pluginErr reads it. */
export function pluginError(how: string, stdout: Buffer, stderr: Buffer): CniError {
  if (stdout.length === 0) {
    if (stderr.length === 0) return new CniError(ErrorCode.Internal, `netplugin failed with no error message: ${how}`);
    return new CniError(ErrorCode.Internal, `netplugin failed: ${JSON.stringify(stderr.toString('utf8'))}: ${how}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(stdout.toString('utf8'));
  } catch (e) {
    return new CniError(
      ErrorCode.Internal,
      `netplugin failed but error parsing its diagnostic message ${JSON.stringify(stdout.toString('utf8'))}: ${(e as Error).message}`,
    );
  }
  if (!isObject(parsed)) {
    return new CniError(ErrorCode.Internal, `netplugin failed but error parsing its diagnostic message ${JSON.stringify(stdout.toString('utf8'))}: not an object`);
  }
  const code = typeof parsed.code === 'number' ? parsed.code : 0;
  const msg = typeof parsed.msg === 'string' ? parsed.msg : '';
  const details = typeof parsed.details === 'string' ? parsed.details : '';
  return new CniError(code, msg, details);
}

const ETXTBSY_RETRIES = 5;

function runOnce(pluginPath: string, stdin: Buffer, env: NodeJS.ProcessEnv, stderrSink: NodeJS.WritableStream | null): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = spawn(pluginPath, [], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let spawnError: NodeJS.ErrnoException | undefined;
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', (e: NodeJS.ErrnoException) => {
      spawnError = e;
    });
    // A plugin that exits without reading stdin makes the write fail with EPIPE: not our error.
    child.stdin.on('error', () => {});
    child.stdin.end(stdin);
    child.on('close', (code, signal) => {
      if (spawnError) {
        reject(spawnError);
        return;
      }
      const stdout = Buffer.concat(out);
      const stderr = Buffer.concat(err);
      if (code === 0) {
        if (stderrSink && stderr.length > 0) stderrSink.write(stderr);
        resolve(stdout);
        return;
      }
      const how = signal ? `signal: ${signal}` : `exit status ${code}`;
      reject(pluginError(how, stdout, stderr));
    });
  });
}

/** The default PluginExec: real binaries on disk. */
export class RawExec implements PluginExec {
  constructor(private readonly stderr: NodeJS.WritableStream | null = process.stderr) {}

  findInPath(plugin: string, paths: readonly string[]): string {
    return findInPath(plugin, paths);
  }

  async execPlugin(pluginPath: string, stdin: Buffer, env: NodeJS.ProcessEnv): Promise<Buffer> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await runOnce(pluginPath, stdin, env, this.stderr);
      } catch (e) {
        if (e instanceof CniError) throw e;
        const code = (e as NodeJS.ErrnoException).code;
        // The binary is being written (e.g. during an upgrade): wait and retry, as libcni does.
        if (code === 'ETXTBSY' && attempt < ETXTBSY_RETRIES) {
          await new Promise((r) => setTimeout(r, 1000));
          continue;
        }
        throw new CniError(ErrorCode.IoFailure, `failed to execute plugin ${pluginPath}: ${(e as Error).message}`);
      }
    }
  }
}

/** Versions of the plugin's VERSION answer (libcni GetVersionInfo). */
export async function getVersionInfo(exec: PluginExec, pluginPath: string, currentVersion: string): Promise<{ cniVersion: string; supportedVersions: string[] }> {
  // Fake values for plugins built against an old skel that insists on them.
  const env = argsAsEnv({ command: 'VERSION', containerId: '', netns: 'dummy', pluginArgs: [], ifName: 'dummy', path: ['dummy'] });
  let out: Buffer;
  try {
    out = await exec.execPlugin(pluginPath, Buffer.from(JSON.stringify({ cniVersion: currentVersion })), env);
  } catch (e) {
    if (e instanceof CniError && e.message === 'unknown CNI_COMMAND: VERSION') return { cniVersion: '0.1.0', supportedVersions: ['0.1.0'] };
    throw e;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(out.toString('utf8'));
  } catch (e) {
    throw new CniError(ErrorCode.DecodeFailure, `decoding version info: ${(e as Error).message}`);
  }
  if (!isObject(parsed)) throw new CniError(ErrorCode.DecodeFailure, 'decoding version info: not an object');
  const cniVersion = typeof parsed.cniVersion === 'string' ? parsed.cniVersion : '';
  if (cniVersion === '') throw new CniError(ErrorCode.DecodeFailure, 'decoding version info: missing field cniVersion');
  const sv = parsed.supportedVersions;
  // Plugins of spec 0.2.0 answer without supportedVersions.
  if ((sv === undefined || (Array.isArray(sv) && sv.length === 0)) && cniVersion === '0.2.0') {
    return { cniVersion, supportedVersions: ['0.1.0', '0.2.0'] };
  }
  if (!Array.isArray(sv) || sv.length === 0 || !sv.every((v): v is string => typeof v === 'string')) {
    throw new CniError(ErrorCode.DecodeFailure, 'decoding version info: missing field supportedVersions');
  }
  return { cniVersion, supportedVersions: sv };
}
