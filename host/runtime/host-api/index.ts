// The host API a plugin instance calls: the generated HostImports implemented on host/sys,
// every call checked against the plugin's capabilities (host/caps/enforce.ts) and written
// to the audit trail (host/caps/audit.ts). The runtime's loader makes one per instance:
//
//   const host = createHostImports(ctx);
//   const imports = buildImports(host, mem);
//   ... run the handler ...
//   host.dispose();            // closes sockets and namespaces, releases the store lock
import type { HostImports } from '../generated/abi.ts';
import { HostState, type InvocationContext } from './context.ts';
import { createFiles } from './files.ts';
import { createFirewall } from './firewall.ts';
import { createIpam } from './ipam.ts';
import { createLog } from './log.ts';
import { createNetlink } from './netlink.ts';
import { createStore } from './store.ts';
import { createSysctl } from './sysctl.ts';

export type { InvocationContext, WasmIpamRequest } from './context.ts';
export { HostCallError, toHostError } from './context.ts';

export interface HostApi extends HostImports {
  /** Release what the invocation holds (idempotent). Calls after it fail with `other`. */
  dispose(): void;
  /** Host calls served and denials so far (for the invocation's summary line). */
  stats(): { calls: number; denials: number; logBytesDropped: number };
}

export function createHostImports(ctx: InvocationContext): HostApi {
  const st = new HostState(ctx);
  const log = createLog(st);
  return {
    log,
    netlink: createNetlink(st),
    sysctl: createSysctl(st),
    firewall: createFirewall(st),
    store: createStore(st),
    files: createFiles(st),
    ipam: createIpam(st),
    dispose: () => st.dispose(),
    stats: () => ({ calls: st.audit.calls, denials: st.audit.denials, logBytesDropped: log.budget.dropped }),
  };
}
