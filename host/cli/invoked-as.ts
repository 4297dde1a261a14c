// Which plugin name this process was exec'd as. A runtime (or a Go plugin delegating to
// IPAM) execs CNI_PATH/<name>; that name, not the config's `type`, says which plugin must
// answer: an IPAM plugin receives its caller's whole network config, whose `type` is the
// caller's. A launcher written by `cni-wasm install` passes its name as the first argument;
// a symlink shows up as argv[1].
import { basename } from 'node:path';

export const PLUGIN_ARG = '--cni-wasm-plugin=';
const SELF = new Set(['cni-wasm', 'cni-wasm.cjs']);

export interface Invocation {
  /** The plugin name, or undefined when exec'd as cni-wasm itself (dispatch on `type`). */
  name: string | undefined;
  /** The remaining arguments, as a CLI would see them. */
  argv: string[];
}

export function invokedAs(argv: readonly string[]): Invocation {
  const rest = argv.slice(2);
  const first = rest[0];
  if (first?.startsWith(PLUGIN_ARG)) {
    return { name: first.slice(PLUGIN_ARG.length) || undefined, argv: [argv[0] ?? 'node', argv[1] ?? 'cni-wasm', ...rest.slice(1)] };
  }
  const script = basename(argv[1] ?? '');
  return { name: script === '' || SELF.has(script) ? undefined : script, argv: [...argv] };
}
