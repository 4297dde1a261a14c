// The per-invocation state behind the host API: what the loader hands over
// (InvocationContext), the namespaces `host` and `container` resolve to, one netlink
// socket per namespace, the enforcement checks and the audit trail, and the one place
// where errors become the WIT `host-error`.
import { CniError } from '../../cni/errors.ts';
import type { NetConf } from '../../cni/config.ts';
import type { Command, PluginEnv } from '../../cni/env.ts';
import { Audit, type AuditSink, type ErrorSummary } from '../../caps/audit.ts';
import { Enforcer, PermissionDenied, isPermissionDenied } from '../../caps/enforce.ts';
import type { Attachment } from '../../caps/marks.ts';
import type { ResolvedCapabilities } from '../../caps/manifest.ts';
import type { Limits } from '../limits.ts';
import { isSysError } from '../../sys/errors.ts';
import { type NetnsHandle, hostNetns, isNetnsError, openNetns } from '../../sys/netns.ts';
import { NetlinkSocket } from '../../sys/netlink/socket.ts';
import { type HostError, type Netns, WitResultError } from '../generated/abi.ts';
import { enterHostCall, enterKernel, leave } from '../../trace.ts';

/** What a delegated in-process IPAM run needs (see InvocationContext.runWasmIpam). */
export interface WasmIpamRequest {
  /** The IPAM plugin type (`ipam.type`). */
  type: string;
  /** Its .wasm file. */
  wasmPath: string;
  command: Command;
  /** Same config, same environment as the calling plugin's invocation. */
  config: NetConf;
  configText: string;
  env: PluginEnv;
}

/** Everything the host API needs to serve one plugin instance in one invocation. */
export interface InvocationContext {
  /** The plugin's type (the config's `type`, or `ipam.type` for a delegated IPAM plugin). */
  plugin: string;
  /** Validated CNI environment of this invocation. */
  env: PluginEnv;
  /** The network config as validated, and as received (delegation passes the text on). */
  config: NetConf;
  configText: string;
  /** What the plugin may do: its manifest resolved within its grant (Authorization.caps). */
  caps: ResolvedCapabilities;
  /** The limits in force (the loader's, after CNI_WASM_LIMITS). */
  limits: Limits;
  /** The process environment (a native IPAM plugin is exec'd with it, CNI_* set over it). */
  procEnv?: Record<string, string | undefined>;
  /**
   * Runs a `.wasm` IPAM plugin in this process, synchronously (new instance, its own grant),
   * returning the ADD result JSON (undefined for other commands); throws CniError. Supplied
   * by the runtime's loader; without it a `.wasm` IPAM type is refused.
   */
  runWasmIpam?: (req: WasmIpamRequest) => string | undefined;
  /** Where `.wasm` plugins are looked for (default: the plugin dir, then CNI_PATH). */
  pluginDirs?: readonly string[];
  /** The namespace `host` names (default: the one this process started in). Tests pass the node's. */
  hostNs?: NetnsHandle;
  /** Audit log destination (default: log() at debug/warn). */
  auditSink?: AuditSink;
  /** Delegation depth: a delegated IPAM plugin runs at depth 1 and may not delegate further. */
  depth?: number;
}

/** A host-API failure with an explicit WIT error case. */
export class HostCallError extends Error {
  readonly tag: HostError['tag'];
  constructor(tag: HostError['tag'], msg: string) {
    super(msg);
    this.name = 'HostCallError';
    this.tag = tag;
  }
}

export const invalid = (msg: string): HostCallError => new HostCallError('invalid', msg);
export const notFound = (msg: string): HostCallError => new HostCallError('not-found', msg);

/** Any error thrown while serving a call, as the WIT host-error the plugin gets. */
export function toHostError(e: unknown): HostError {
  if (e instanceof WitResultError) return e.payload as HostError;
  if (isPermissionDenied(e)) return { tag: 'permission-denied', val: e.message };
  if (e instanceof HostCallError) return { tag: e.tag, val: e.message };
  if (isSysError(e)) {
    // The kernel's EPERM/EACCES is not a missing capability: `permission-denied` is
    // reserved for the grant, so that a plugin (and its author) can tell them apart.
    const kind = e.kind === 'permission-denied' ? 'other' : e.kind;
    return { tag: kind, val: e.message };
  }
  if (e instanceof CniError) return { tag: 'other', val: e.message };
  return { tag: 'other', val: `internal error: ${e instanceof Error ? e.message : String(e)}` };
}

function summarize(e: unknown): ErrorSummary {
  const h = toHostError(e);
  return { tag: h.tag, msg: h.val };
}

/** Attachments still valid, from a GC config's `cni.dev/valid-attachments`. */
function validAttachments(config: NetConf): Attachment[] {
  const v = config['cni.dev/valid-attachments'];
  if (!Array.isArray(v)) return [];
  const out: Attachment[] = [];
  for (const a of v) {
    if (typeof a === 'object' && a !== null) {
      const { containerID, ifname } = a as { containerID?: unknown; ifname?: unknown };
      if (typeof containerID === 'string' && typeof ifname === 'string') out.push({ containerId: containerID, ifname });
    }
  }
  return out;
}

/** The state shared by every interface of one host-API instance. */
export class HostState {
  readonly ctx: InvocationContext;
  readonly enforcer: Enforcer;
  readonly audit: Audit;
  readonly network: string;
  readonly #cleanups: (() => void)[] = [];
  #host: NetnsHandle | undefined;
  #container: NetnsHandle | undefined;
  readonly #sockets = new Map<Netns, NetlinkSocket>();
  #disposed = false;

  constructor(ctx: InvocationContext) {
    this.ctx = ctx;
    this.network = ctx.config.name;
    const { env } = ctx;
    const attachment = env.containerId && env.ifname ? { containerId: env.containerId, ifname: env.ifname } : undefined;
    this.enforcer = new Enforcer(ctx.caps, {
      plugin: ctx.plugin,
      network: this.network,
      attachment,
      gcValid: env.command === 'GC' ? validAttachments(ctx.config) : undefined,
    });
    this.audit = new Audit(
      { plugin: ctx.plugin, network: this.network, command: env.command, containerId: env.containerId, ifname: env.ifname },
      ctx.auditSink ? { sink: ctx.auditSink, env: ctx.procEnv ?? process.env } : { env: ctx.procEnv ?? process.env },
    );
  }

  /** This invocation's attachment; invalid for commands that have none (GC, STATUS). */
  attachment(what: string): Attachment {
    const { containerId, ifname } = this.ctx.env;
    if (!containerId || !ifname) throw invalid(`cannot ${what}: this ${this.ctx.env.command} has no container ID and interface`);
    return { containerId, ifname };
  }

  hostNs(): NetnsHandle {
    if (this.#host) return this.#host;
    const tk = enterKernel('netns');
    this.#host = this.ctx.hostNs ?? hostNetns();
    leave(tk);
    return this.#host;
  }

  /** The container namespace (CNI_NETNS), opened on first use. Absent or vanished → not-found. */
  containerNs(): NetnsHandle {
    if (this.#container && !this.#container.closed) return this.#container;
    const path = this.ctx.env.netns;
    if (!path) throw notFound('no container namespace: CNI_NETNS is empty in this invocation');
    let h: NetnsHandle;
    const tk = enterKernel('netns');
    try {
      h = openNetns(path);
      leave(tk);
    } catch (e) {
      leave(tk);
      if (isNetnsError(e) && e.kind === 'not-found') throw notFound(`the container namespace ${path} does not exist (any more)`);
      if (isNetnsError(e)) throw invalid(`CNI_NETNS ${path} is not a network namespace`);
      throw e;
    }
    if (h.sameAs(this.hostNs())) {
      h.close();
      throw invalid(`CNI_NETNS ${path} is the host's own network namespace; it cannot be used as a container's`);
    }
    this.#container = h;
    this.#cleanups.push(() => h.close());
    return h;
  }

  /**
   * Refuse anything but the two names. Unreachable through the generated glue (it traps on
   * other discriminants): defence in depth, checked before any other rule is applied.
   */
  checkNs(which: Netns): void {
    if (which !== 'host' && which !== 'container') {
      throw new PermissionDenied('netns', `unknown namespace ${JSON.stringify(which)}: a plugin may only name host or container`);
    }
  }

  ns(which: Netns): NetnsHandle {
    this.checkNs(which);
    return which === 'host' ? this.hostNs() : this.containerNs();
  }

  /** The netlink socket of a namespace, opened on first use, closed at dispose. */
  socket(which: Netns): NetlinkSocket {
    const have = this.#sockets.get(which);
    if (have && !have.closed) return have;
    const s = NetlinkSocket.open(this.ns(which));
    this.#sockets.set(which, s);
    return s;
  }

  onDispose(fn: () => void): void {
    this.#cleanups.push(fn);
  }

  /**
   * Serve one call: audit it, run `body` (which does its own checks), and turn any failure
   * into a WitResultError<HostError>.
   */
  call<T>(name: string, args: () => unknown, body: () => T, result?: (r: T) => unknown): T {
    if (this.#disposed) throw new WitResultError<HostError>({ tag: 'other', val: 'the invocation is over' });
    const th = enterHostCall(this.ctx.plugin, name);
    try {
      return this.audit.call(name, args, body, summarize, result);
    } catch (e) {
      throw new WitResultError<HostError>(toHostError(e));
    } finally {
      leave(th);
    }
  }

  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    this.audit.summary();
    for (const s of this.#sockets.values()) s.close();
    this.#sockets.clear();
    for (const fn of this.#cleanups.reverse()) {
      try {
        fn();
      } catch {
        /* best effort */
      }
    }
  }
}

