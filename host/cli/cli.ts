// The command-line interface for people (no CNI_COMMAND in the environment).
import { Command } from 'commander';
import { realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_PLUGINS, install } from './install.ts';
import { registerNetCommand } from './net.ts';
import { registerPluginCommand } from './plugin/index.ts';
import { SUPPORTED_VERSIONS } from '../cni/version.ts';
import { defaultPluginDir } from '../cni/registry.ts';

declare const CNI_WASM_VERSION: string | undefined;
const VERSION = typeof CNI_WASM_VERSION === 'string' ? CNI_WASM_VERSION : '0.0.0-dev';

export function buildProgram(): Command {
  const program = new Command();
  program
    .name('cni-wasm')
    .description(
      'A CNI plugin host that runs plugins as sandboxed WebAssembly components.\n\n' +
        'As a plugin: a container runtime execs it with CNI_COMMAND and friends in the\n' +
        'environment and the network config on stdin, exactly like the reference plugins:\n' +
        '  echo \'{"cniVersion":"1.1.0"}\' | CNI_COMMAND=VERSION cni-wasm\n\n' +
        'As a tool: the subcommands below.',
    )
    .version(VERSION, '-V, --version', 'print the cni-wasm version')
    .showHelpAfterError('(run "cni-wasm --help" for usage)');

  program
    .command('version')
    .description('print the cni-wasm version, the CNI spec versions it speaks, and where it looks for plugins')
    .action(() => {
      process.stdout.write(
        `cni-wasm ${VERSION}\nCNI protocol versions supported: ${SUPPORTED_VERSIONS.join(', ')}\nplugin directory: ${defaultPluginDir()}\n`,
      );
    });

  program
    .command('install')
    .description('make cni-wasm answer under plugin names in a CNI bin directory (e.g. /opt/cni/bin)')
    .requiredOption('--dir <bin-dir>', 'the CNI bin directory a runtime puts on CNI_PATH')
    .option('--plugins <list>', 'comma-separated plugin names', DEFAULT_PLUGINS.join(','))
    .option('--symlink', 'install symlinks (needs "node" on the runtime\'s PATH) instead of launchers that pin this Node binary')
    .option('--force', 'replace existing files that are not cni-wasm (e.g. the reference plugins)')
    .addHelpText('after', '\nExample:\n  cni-wasm install --dir /opt/cni/bin --plugins bridge,host-local --force')
    .action((opts: { dir: string; plugins: string; symlink?: boolean; force?: boolean }) => {
      // dist/cli.cjs sits beside the binary dist/cni-wasm.cjs.
      const entry = realpathSync(join(dirname(fileURLToPath(import.meta.url)), 'cni-wasm.cjs'));
      const actions = install({
        dir: opts.dir,
        plugins: opts.plugins.split(',').map((s) => s.trim()).filter(Boolean),
        mode: opts.symlink ? 'symlink' : 'launcher',
        force: opts.force === true,
        entry,
        node: process.execPath,
      });
      for (const a of actions) process.stdout.write(`${a.action.padEnd(9)} ${a.path}\n`);
    });

  registerNetCommand(program);
  registerPluginCommand(program);
  return program;
}

export async function runCli(argv: string[]): Promise<void> {
  const program = buildProgram();
  program.exitOverride();
  try {
    await program.parseAsync(argv);
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === 'commander.helpDisplayed' || code === 'commander.version' || code === 'commander.help') return;
    if (typeof code === 'string' && code.startsWith('commander.')) {
      process.exitCode = 2;
      return;
    }
    process.stderr.write(`cni-wasm: ${(e as Error).message}\n`);
    process.exitCode = 1;
  }
}

/** Run by hand under a plugin's name (no CNI_COMMAND): say what this is, as the reference plugins do. */
export function printAbout(name: string): void {
  process.stderr.write(
    `CNI ${name} plugin (cni-wasm ${VERSION}, a WebAssembly plugin host)\nCNI protocol versions supported: ${SUPPORTED_VERSIONS.join(', ')}\n`,
  );
}
