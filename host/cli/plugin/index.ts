// `cni-wasm plugin ...`: the kit for third-party plugins. One subcommand per module:
//   new      scaffold a project (new.ts)          build    compile it (build.ts)
//   inspect  what a file is and asks for          install  copy + grant in the policy, pinned
//   test     ADD/CHECK/DEL in throwaway namespaces, with the host calls it made
import type { Command } from 'commander';
import { registerBuild } from './build.ts';
import { registerInspect } from './inspect.ts';
import { registerInstall } from './install.ts';
import { registerNew } from './new.ts';
import { registerTest } from './test.ts';

export function registerPluginCommand(program: Command): void {
  const plugin = program
    .command('plugin')
    .description('write, build, inspect, test and install third-party plugins (docs/plugin-authoring.md)')
    .addHelpText(
      'after',
      '\nAn author:\n' +
        '  cni-wasm plugin new mytune && cd mytune\n' +
        '  cni-wasm plugin build\n' +
        '  cni-wasm plugin inspect build/mytune.wasm\n' +
        '  sudo cni-wasm plugin test build/mytune.wasm --config test/conflist.json --grant-declared\n' +
        'An operator:\n' +
        '  sudo cni-wasm plugin install mytune.wasm --grant-declared --bin-dir /opt/cni/bin\n',
    );
  registerNew(plugin);
  registerBuild(plugin);
  registerInspect(plugin);
  registerInstall(plugin);
  registerTest(plugin);
}
