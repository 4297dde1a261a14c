// Entry point. With CNI_COMMAND set this process is a CNI plugin; otherwise it is the CLI.
// Only the plugin path is loaded eagerly: it is the hot path a runtime execs.
// trace.ts first: with CNI_WASM_TRACE=1 its evaluation marks the first line of host code.
import '../trace.ts';
import { runPlugin } from '../cni/plugin-main.ts';

if (process.env.CNI_COMMAND !== undefined) {
  void runPlugin();
} else {
  void import('./cli.ts').then((m) => m.runCli(process.argv));
}
