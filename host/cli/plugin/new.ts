// `cni-wasm plugin new <name> [--dir <folder>]`: scaffold a plugin project anywhere (outside
// this repository too): the plugin's source, its capabilities.json, a test network config
// (chained after bridge), a package.json whose scripts build, inspect and test it with this
// cni-wasm, and the SDK dependency made resolvable offline.
//
// The SDK is the @cni-wasm/sdk package shipped inside the installed cni-wasm
// (plugins-as/sdk). package.json names it as a `file:` dependency on that folder, and
// node_modules/@cni-wasm/sdk is made a symbolic link to it: exactly what `npm install` does for
// a file: dependency, without needing npm or a network. The SDK follows the installed
// cni-wasm, whose WIT version `plugin build` checks it against.
import type { Command } from 'commander';
import { existsSync, mkdirSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { SDK_PACKAGE } from './build.ts';
import { checkTypeName, cniWasmEntry, cniWasmRoot, sdkFolder, witPackage } from './paths.ts';

export interface NewOptions {
  name: string;
  /** The project folder (default ./<name>); must not exist or be empty. */
  dir?: string | undefined;
  root?: string | undefined;
  /** The command that runs cni-wasm, for package.json scripts (default: this Node and binary). */
  command?: string | undefined;
}

export interface NewResult {
  dir: string;
  files: string[];
}

const sh = (s: string): string => (/^[A-Za-z0-9_./:@%+=-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);

export function pluginSource(name: string): string {
  return `// ${name}: a cni-wasm plugin, written in AssemblyScript against the @cni-wasm/sdk package.
//
// A chained plugin: in a network configuration list it runs after a plugin that creates the
// container's interface (bridge, ptp, ...). ADD reads that interface and passes the previous
// result on; CHECK verifies the interface is still there. Grow it from here: the tutorial in
// cni-wasm's docs/plugin-authoring.md makes it set the interface's MTU from the config.
import {
  CniError,
  ErrorCode,
  Handler,
  Level,
  Netns,
  Request,
  Result,
  Unit,
  fail,
  log,
  netlink,
  ok,
  okResult,
  parseRequest,
  registerHandler,
} from "${SDK_PACKAGE}";

// The component's exports (cabi_realloc and the handler trampolines). Keep this line.
export * from "${SDK_PACKAGE}/generated/exports";

class Plugin extends Handler {
  add(req: Request): Result<string, CniError> {
    const p = parseRequest(req);
    if (!p.ok) return Result.err<string, CniError>(p.error!);
    const inv = p.invocation!;
    const prev = inv.prevResult;
    if (prev === null) {
      return fail<string>(ErrorCode.InvalidConfig, "${name} must be chained after a plugin that creates the interface (no prevResult)");
    }
    const link = netlink.getLink(Netns.Container, inv.ifname);
    if (link.isErr) return fail<string>(ErrorCode.IoFailure, "cannot read " + inv.ifname + ": " + link.error.toString());
    log.write(Level.Info, inv.ifname + " is up: " + (link.value.up ? "yes" : "no") + ", mtu " + link.value.mtu.toString());
    // Pass the previous result on (a chained plugin answers with the result it was given).
    return okResult(prev);
  }

  del(req: Request): Result<Unit, CniError> {
    // Nothing to undo: the interface belongs to the plugin that created it.
    return ok();
  }

  check(req: Request): Result<Unit, CniError> {
    if (!req.hasContainer) return ok();
    const link = netlink.getLink(Netns.Container, req.ifname);
    if (link.isErr) return fail<Unit>(ErrorCode.IoFailure, "CHECK: " + req.ifname + ": " + link.error.toString());
    return ok();
  }

  status(req: Request): Result<Unit, CniError> {
    return ok();
  }

  gc(req: Request): Result<Unit, CniError> {
    return ok();
  }
}

registerHandler(new Plugin());
`;
}

export function testConflist(name: string): string {
  const doc = {
    cniVersion: '1.0.0',
    name: `${name}-test`,
    plugins: [
      {
        type: 'bridge',
        bridge: 'cniwtest0',
        isGateway: true,
        ipam: { type: 'host-local', subnet: '10.250.0.0/24', dataDir: '/run/cni-wasm-test/ipam' },
      },
      { type: name },
    ],
  };
  return `${JSON.stringify(doc, null, 2)}\n`;
}

function readme(name: string, cmd: string): string {
  return `# ${name}

A CNI plugin for cni-wasm, written in AssemblyScript with the
\`@cni-wasm/sdk\` package. Chained after \`bridge\`, it reads the container's interface and
passes the previous result on.

| file | what |
| --- | --- |
| \`index.ts\` | the plugin |
| \`capabilities.json\` | what it asks the host for (the operator grants it) |
| \`test/conflist.json\` | a network configuration list for \`plugin test\`: bridge, then ${name} |
| \`package.json\` | scripts that run cni-wasm; the SDK as a \`file:\` dependency |

\`\`\`sh
npm run build          # ${cmd} plugin build .          -> build/${name}.wasm
npm run inspect        # ${cmd} plugin inspect build/${name}.wasm
sudo npm test          # ADD, CHECK, DEL in throwaway network namespaces, host calls printed
sudo ${cmd} plugin install build/${name}.wasm --grant-declared --bin-dir /opt/cni/bin
\`\`\`

The tutorial and the SDK reference are in cni-wasm's \`docs/plugin-authoring.md\`; every
capability is described in \`docs/capabilities.md\`.
`;
}

export function scaffold(o: NewOptions): NewResult {
  const name = checkTypeName(o.name, 'plugin name');
  const root = o.root ?? cniWasmRoot();
  const dir = resolve(o.dir ?? name);
  if (existsSync(dir) && readdirSync(dir).length > 0) throw new Error(`${dir} exists and is not empty: choose another --dir`);
  const sdk = sdkFolder(root);
  if (!existsSync(join(sdk, 'package.json'))) throw new Error(`the SDK is missing from this cni-wasm (${sdk})`);
  const cmd = o.command ?? `${sh(process.execPath)} ${sh(cniWasmEntry(root))}`;
  const wit = witPackage(root);
  const pkg = {
    name,
    version: '0.1.0',
    private: true,
    description: `${name}: a cni-wasm plugin (AssemblyScript, ${wit})`,
    cniWasm: { type: name },
    scripts: {
      build: `${cmd} plugin build .`,
      inspect: `${cmd} plugin inspect build/${name}.wasm`,
      test: `${cmd} plugin test build/${name}.wasm --config test/conflist.json --grant-declared`,
    },
    dependencies: { [SDK_PACKAGE]: `file:${sdk}` },
  };
  const files: [string, string][] = [
    ['package.json', `${JSON.stringify(pkg, null, 2)}\n`],
    ['index.ts', pluginSource(name)],
    ['capabilities.json', `${JSON.stringify({ version: 1, links: { container: true } }, null, 2)}\n`],
    [join('test', 'conflist.json'), testConflist(name)],
    ['README.md', readme(name, cmd)],
    ['.gitignore', 'build/\nnode_modules/\n'],
  ];
  mkdirSync(join(dir, 'test'), { recursive: true });
  for (const [f, text] of files) writeFileSync(join(dir, f), text, { flag: 'wx' });
  // What `npm install` makes of the file: dependency, made here so the project builds offline.
  mkdirSync(join(dir, 'node_modules', '@cni-wasm'), { recursive: true });
  symlinkSync(sdk, join(dir, 'node_modules', SDK_PACKAGE));
  return { dir, files: [...files.map(([f]) => f), join('node_modules', SDK_PACKAGE)] };
}

export function registerNew(plugin: Command): void {
  plugin
    .command('new')
    .description('scaffold a plugin project: source, capabilities.json, a test config and build scripts')
    .argument('<name>', 'the plugin type (the "type" a network config will name)')
    .option('--dir <folder>', 'the project folder to create (default: ./<name>)')
    .action((name: string, opts: { dir?: string }) => {
      const r = scaffold({ name, dir: opts.dir });
      const shown = relative(process.cwd(), r.dir) || '.';
      process.stdout.write(
        `created ${r.dir}\n${r.files.map((f) => `  ${f}`).join('\n')}\n\n` +
          `next:\n  cd ${shown.startsWith('..') ? r.dir : shown}\n  npm run build      (or: cni-wasm plugin build)\n` +
          `  sudo npm test      (ADD, CHECK, DEL in throwaway namespaces)\n` +
          `the tutorial: docs/plugin-authoring.md in ${cniWasmRoot()}\n`,
      );
    });
}
