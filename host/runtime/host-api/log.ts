// The `log` interface: a plugin's own lines, written at its level with the invocation's
// identity, within the policy's maxLogBytes for the invocation (the rest is dropped and
// counted; one warning says so).
import { log } from '../../log/logger.ts';
import { ByteBudget } from '../limits.ts';
import type { Log } from '../generated/abi.ts';
import type { HostState } from './context.ts';

export function createLog(st: HostState): Log & { budget: ByteBudget } {
  const budget = new ByteBudget(st.ctx.limits.maxLogBytes);
  let warned = false;
  const id = st.audit.id;
  return {
    budget,
    write(level, msg) {
      if (!budget.take(Buffer.byteLength(msg))) {
        if (!warned) {
          warned = true;
          void log('warn', { plugin: id.plugin, network: id.network, containerId: id.containerId, limit: budget.limit }, `plugin "${id.plugin}" reached its log limit (maxLogBytes ${budget.limit}); further lines are dropped`);
        }
        return;
      }
      void log(level, { plugin: id.plugin, network: id.network, containerId: id.containerId, source: 'plugin' }, msg);
    },
  };
}
