// Entry point. With CNI_COMMAND set this process is a CNI plugin; otherwise it is the CLI.
// Only the plugin path is loaded eagerly: it is the hot path a runtime execs.
// trace.ts first: with CNI_WASM_TRACE=1 its evaluation marks the first line of host code.
import '../trace.ts';
import { runPlugin } from '../cni/plugin-main.ts';
import { invokedAs } from './invoked-as.ts';

const as = invokedAs(process.argv);
if (process.env.CNI_COMMAND !== undefined) {
  void runPlugin(as.name);
} else if (as.name !== undefined) {
  // Like the reference plugins run by hand: say what this is, on stderr.
  void import('./cli.ts').then((m) => m.printAbout(as.name!));
} else {
  void import('./cli.ts').then((m) => m.runCli(as.argv));
}
