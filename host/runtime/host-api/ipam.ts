// The `ipam` interface: delegate ADD/DEL/CHECK/STATUS/GC to the plugin named by the
// config's `ipam.type`, with this invocation's config (the bytes the runtime sent) and
// environment, as the reference plugins' ipam.Exec* do.
//  - `<type>.wasm` in the plugin directory or on CNI_PATH: run in this process through the
//    runtime's loader (a new instance under its own grant), synchronously;
//  - otherwise the native binary `<type>` from CNI_PATH, exec'd like libcni's invoke
//    (environment = ours with CNI_* set over it, config on stdin), bounded by the plugin's
//    call budget and result size.
// Host imports are synchronous, so the exec is spawnSync: a host call never runs inside a
// namespace switch, so a child never starts in the wrong namespace.
import { spawnSync } from 'node:child_process';
import { CniError, ErrorCode, toCniError } from '../../cni/errors.ts';
import type { Command } from '../../cni/env.ts';
import { argsAsEnv, findInPath, pluginError } from '../../cni/libcni/invoke.ts';
import { locatePlugin, searchDirs } from '../../cni/registry.ts';
import { convertResult, parseResult, resultToJSON } from '../../cni/result.ts';
import { type CniError as WitCniError, type Ipam, WitResultError } from '../generated/abi.ts';
import { isPermissionDenied, PERMISSION_DENIED_CODE } from '../../caps/enforce.ts';
import type { HostState } from './context.ts';
import { enter, enterHostCall, leave } from '../../trace.ts';

/** ipam.add answers in this version, like the prevResult a plugin gets. */
export const IPAM_RESULT_VERSION = '1.1.0';

/** Any failure as the WIT cni-error the plugin gets. A denial keeps its capability-naming message. */
function toWitCniError(e: unknown): WitCniError {
  if (e instanceof WitResultError) return e.payload as WitCniError;
  if (isPermissionDenied(e)) return { code: PERMISSION_DENIED_CODE, msg: `permission-denied: ${e.message}`, details: '' };
  const c = toCniError(e);
  return { code: c.code, msg: c.message, details: c.details };
}

const witError = (e: unknown): WitResultError<WitCniError> => new WitResultError<WitCniError>(toWitCniError(e));

export function createIpam(st: HostState): Ipam {
  const enf = st.enforcer;
  const ctx = st.ctx;

  const ipamType = (): string => {
    const ipam = ctx.config.ipam;
    const t = ipam?.type;
    if (typeof t !== 'string' || t === '') throw new CniError(ErrorCode.InvalidConfig, 'cannot delegate IPAM: the config has no "ipam.type"');
    if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(t)) throw new CniError(ErrorCode.InvalidConfig, 'invalid characters found in ipam.type', t);
    return t;
  };

  const execNative = (type: string, command: Command): string => {
    const env = ctx.env;
    const path = findInPath(type, env.path);
    const childEnv = argsAsEnv(
      { command, containerId: env.containerId, netns: env.netns, pluginArgs: env.args, ifName: env.ifname, path: env.path },
      (ctx.procEnv ?? process.env) as NodeJS.ProcessEnv,
    );
    const limits = ctx.limits;
    const tx = enter('ipam.exec');
    const r = spawnSync(path, [], {
      input: Buffer.from(ctx.configText),
      env: childEnv,
      timeout: limits.ipamTimeoutMs,
      maxBuffer: limits.maxResultBytes,
      killSignal: 'SIGKILL',
    });
    leave(tx);
    if (r.error) {
      const code = (r.error as NodeJS.ErrnoException).code;
      if (code === 'ETIMEDOUT') throw new CniError(ErrorCode.IoFailure, `IPAM plugin ${path} did not answer within ${limits.ipamTimeoutMs} ms`, 'the limit is the policy limit ipamTimeoutMs');
      if (code === 'ENOBUFS') throw new CniError(ErrorCode.IoFailure, `IPAM plugin ${path} wrote more than ${limits.maxResultBytes} bytes`);
      throw new CniError(ErrorCode.IoFailure, `failed to execute IPAM plugin ${path}: ${r.error.message}`);
    }
    const stdout = r.stdout ?? Buffer.alloc(0);
    const stderr = r.stderr ?? Buffer.alloc(0);
    if (r.status !== 0) throw pluginError(r.signal ? `signal: ${r.signal}` : `exit status ${r.status}`, stdout, stderr);
    return stdout.toString('utf8');
  };

  const delegate = (command: Command): string => {
    enf.requireIpam(`delegate ${command} to an IPAM plugin`);
    if ((ctx.depth ?? 0) > 0) throw new CniError(ErrorCode.InvalidConfig, 'an IPAM plugin may not delegate IPAM further');
    const type = ipamType();
    const dirs = ctx.pluginDirs ? [...ctx.pluginDirs] : searchDirs(ctx.env, ctx.procEnv ?? process.env);
    const wasmPath = locatePlugin(type, dirs);
    if (wasmPath) {
      if (!ctx.runWasmIpam) throw new CniError(ErrorCode.PluginNotAvailable, `found ${wasmPath} but this host cannot run a wasm IPAM plugin in process`);
      return ctx.runWasmIpam({ type, wasmPath, command, config: ctx.config, configText: ctx.configText, env: ctx.env }) ?? '';
    }
    return execNative(type, command);
  };

  const run = (name: string, command: Command): string => {
    const th = enterHostCall(ctx.plugin, `ipam.${name}`);
    try {
      return st.audit.call(
        `ipam.${name}`,
        () => [ctx.config.ipam?.type],
        () => delegate(command),
        (e) => {
          const c = toWitCniError(e);
          return { tag: isPermissionDenied(e) ? 'permission-denied' : `cni-error ${c.code}`, msg: c.details ? `${c.msg}; ${c.details}` : c.msg };
        },
        (r) => (command === 'ADD' ? r : undefined),
      );
    } catch (e) {
      throw witError(e);
    } finally {
      leave(th);
    }
  };

  return {
    add() {
      const out = run('add', 'ADD');
      try {
        if (out.trim() === '') throw new CniError(ErrorCode.Internal, `IPAM plugin "${ctx.config.ipam?.type}" returned no result for ADD`);
        let parsed: unknown;
        try {
          parsed = JSON.parse(out);
        } catch (e) {
          throw new CniError(ErrorCode.DecodeFailure, `IPAM plugin "${ctx.config.ipam?.type}" returned a result that is not JSON: ${(e as Error).message}`);
        }
        // Whatever version the IPAM plugin answered in, the plugin reads one form (as for prevResult).
        return resultToJSON(convertResult(parseResult(parsed, `result of IPAM plugin "${ctx.config.ipam?.type}"`), IPAM_RESULT_VERSION)).trimEnd();
      } catch (e) {
        throw witError(e);
      }
    },
    del() {
      run('del', 'DEL');
    },
    check() {
      run('check', 'CHECK');
    },
    status() {
      run('status', 'STATUS');
    },
    gc() {
      run('gc', 'GC');
    },
  };
}
