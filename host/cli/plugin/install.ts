// `cni-wasm plugin install <file.wasm>`: put a plugin where the host finds it and record what
// it may do. The file is copied into the plugin directory as <type>.wasm, and the policy file
// gets an entry for <type> with the grant, pinned to the file's sha256. Before writing, the
// operator sees the grant in words (docs/capabilities.md), what the plugin declares, and
// anything the grant leaves out. An existing grant is never widened silently: that needs
// --replace-grant, and the refusal names what would widen.
//
// An upgrade (a different file already installed under the type) pins both digests while the
// file is replaced, then only the new one, so a runtime exec'ing the plugin meanwhile is never
// refused by the pin.
import type { Command } from 'commander';
import { closeSync, constants as fsc, existsSync, fsyncSync, mkdirSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { defaultPluginDir } from '../../cni/registry.ts';
import { type Capabilities, type CapabilitySpec, emptyCapabilities, parseCapabilities } from '../../caps/manifest.ts';
import { install as installLauncher } from '../install.ts';
import { capabilityText, specToJson } from './describe.ts';
import { coverageGaps, parseGrantArgs, sameSpec } from './grant.ts';
import { inspectBytes, readPluginFile, typeFromFile } from './inspect.ts';
import { checkTypeName, cniWasmEntry, sizeText } from './paths.ts';
import { effectiveEntry, fileEntry, policyFilePath, readPolicyFile, withEntry, withPolicyLock, writePolicyFile, type PolicyDoc } from './policy-edit.ts';

type Env = Record<string, string | undefined>;

export interface InstallOptions {
  file: string;
  name?: string | undefined;
  /** `--grant` arguments (grant.ts). */
  grants?: string[] | undefined;
  /** Grant exactly what the plugin declares. */
  grantDeclared?: boolean | undefined;
  /** Allow replacing an existing entry with a wider grant. */
  replaceGrant?: boolean | undefined;
  pluginDir?: string | undefined;
  policy?: string | undefined;
  /** Also make cni-wasm answer as <type> in this CNI bin directory. */
  binDir?: string | undefined;
  /** Replace a file in the plugin or bin directory that no policy entry of ours accounts for. */
  force?: boolean | undefined;
  env?: Env | undefined;
}

export type EntryChange = 'new' | 'unchanged' | 'narrows' | 'replaces' | 'widens';

export interface InstallPlan {
  type: string;
  file: string;
  bytes: Uint8Array;
  sha256: string;
  dest: string;
  /** The digest of the file now at `dest`, if any. */
  destSha256: string | undefined;
  policyPath: string;
  policyExists: boolean;
  grant: CapabilitySpec;
  declared: CapabilitySpec;
  /** What the plugin declares that the grant does not cover: it would be refused at load. */
  notCovered: string[];
  /** The entry in force before (the file's or the built-in one). */
  previous: { source: string; grant: CapabilitySpec; sha256: string[] } | undefined;
  change: EntryChange;
  /** What the new grant adds over the previous one. */
  widens: string[];
  /** The policy document to write (the entry pinned to the new digest). */
  doc: PolicyDoc;
  /** During an upgrade: the document pinning both digests, written before the file is replaced. */
  transitional: PolicyDoc | undefined;
  /** The raw entry the plan was made against (to detect a concurrent change). */
  basis: string;
}

function grantFrom(o: InstallOptions, declared: Capabilities, hasManifest: boolean, type: string): Capabilities {
  const grants = o.grants ?? [];
  if (o.grantDeclared && grants.length) throw new Error('give either --grant-declared or --grant, not both');
  if (o.grantDeclared) return declared;
  if (grants.length) return parseGrantArgs(grants);
  if (!hasManifest || sameSpec(declared.spec, emptyCapabilities().spec)) return emptyCapabilities();
  throw new Error(
    `plugin "${type}" declares capabilities (see them with: cni-wasm plugin inspect ${o.file}).\n` +
      `Grant exactly those with --grant-declared, or choose with --grant (e.g. --grant links.container); nothing was installed`,
  );
}

/** Work out what an install would do, refusing what it must not do. Reads, never writes. */
export function planInstall(o: InstallOptions): InstallPlan {
  const env = o.env ?? process.env;
  const file = resolve(o.file);
  const { bytes, sha256 } = readPluginFile(file);
  const info = inspectBytes(file, bytes, sha256);
  const type = checkTypeName(o.name ?? typeFromFile(file), 'plugin type');
  if (!info.accepted) throw new Error(`refusing to install ${file}: this host would not load it: ${info.refusal?.msg ?? 'not a plugin'}`);
  if (info.capabilitiesError) throw new Error(`refusing to install ${file}: its capability manifest is invalid: ${info.capabilitiesError}`);
  const declared = info.capabilities ? parseCapabilities(info.capabilities, `capabilities of ${file}`) : emptyCapabilities();
  const granted = grantFrom(o, declared, info.capabilities !== null, type);

  const pf = readPolicyFile(policyFilePath(o.policy, env));
  const prevEntry = effectiveEntry(pf, type);
  const ownEntry = fileEntry(pf, type);
  const dest = join(resolve(o.pluginDir || defaultPluginDir(env)), `${type}.wasm`);
  const destSha256 = existsSync(dest) ? readPluginFile(dest).sha256 : undefined;
  if (destSha256 !== undefined && destSha256 !== sha256 && !ownEntry && !o.force) {
    throw new Error(
      `${dest} exists (sha256 ${destSha256}) and the policy file has no entry for "${type}"${prevEntry ? ' (it is a first-party plugin with a built-in grant)' : ''}: ` +
        'pass --force to replace it, or --name to install under another type',
    );
  }

  let change: EntryChange = 'new';
  let widens: string[] = [];
  if (prevEntry) {
    widens = coverageGaps(granted, prevEntry.grant);
    const narrows = coverageGaps(prevEntry.grant, granted).length > 0;
    if (widens.length) {
      if (!o.replaceGrant) {
        throw new Error(
          `refusing to widen the grant of "${type}" (${prevEntry.source === 'built-in' ? 'its built-in grant' : `in ${pf.path}`}): the new grant adds\n` +
            widens.map((w) => `  - ${w}\n`).join('') +
            'pass --replace-grant to replace the grant with the new one; nothing was installed',
        );
      }
      change = 'widens';
    } else if (narrows) change = 'narrows';
    else change = sameSpec(granted.spec, prevEntry.grant.spec) ? 'unchanged' : 'replaces';
  }

  const rawPlugins = (pf.doc.plugins ?? {}) as Record<string, unknown>;
  const rawOld = rawPlugins[type] as Record<string, unknown> | undefined;
  const entry: Record<string, unknown> = { grant: specToJson(granted.spec), sha256 };
  if (rawOld && rawOld.limits !== undefined) entry.limits = rawOld.limits;
  const doc = withEntry(pf.doc, type, entry);
  const transitional = destSha256 !== undefined && destSha256 !== sha256 ? withEntry(pf.doc, type, { ...entry, sha256: [destSha256, sha256] }) : undefined;

  return {
    type,
    file,
    bytes,
    sha256,
    dest,
    destSha256,
    policyPath: pf.path,
    policyExists: pf.exists,
    grant: granted.spec,
    declared: declared.spec,
    notCovered: coverageGaps(declared, granted),
    previous: prevEntry ? { source: prevEntry.source, grant: prevEntry.grant.spec, sha256: prevEntry.sha256 } : undefined,
    change,
    widens,
    doc,
    transitional,
    basis: JSON.stringify(rawOld ?? null),
  };
}

export function formatPlan(p: InstallPlan): string {
  const lines: string[] = [];
  lines.push(`plugin "${p.type}" from ${p.file}`);
  lines.push(`  sha256   ${p.sha256}, ${sizeText(p.bytes.length)}`);
  const fileState = p.destSha256 === undefined ? 'new file' : p.destSha256 === p.sha256 ? 'already there, identical' : `replaces the file with sha256 ${p.destSha256}`;
  lines.push(`  copy to  ${p.dest} (${fileState})`);
  const entryState: Record<EntryChange, string> = {
    new: 'a new entry',
    unchanged: 'the grant is unchanged',
    narrows: 'narrows the previous grant',
    replaces: 'replaces the previous grant (nothing added)',
    widens: 'WIDENS the previous grant (--replace-grant)',
  };
  lines.push(`  policy   ${p.policyPath}${p.policyExists ? '' : ' (created)'}: ${entryState[p.change]}, pinned to this sha256`);
  if (p.previous?.sha256.length && !p.previous.sha256.includes(p.sha256)) lines.push(`           previously pinned: ${p.previous.sha256.join(', ')}`);
  lines.push('');
  lines.push(`grant for "${p.type}" (what the plugin may do):`);
  lines.push(capabilityText(p.grant).trimEnd());
  if (p.widens.length) {
    lines.push('');
    lines.push('added over the previous grant:');
    for (const w of p.widens) lines.push(`  + ${w}`);
  }
  lines.push('');
  if (sameSpec(p.grant, p.declared)) lines.push('the plugin declares exactly this.');
  else {
    lines.push(`the plugin declares: ${JSON.stringify(specToJson(p.declared))}`);
    if (p.notCovered.length) {
      lines.push('WARNING: the grant does not cover all of it; the plugin will be refused at load (for configs that need these):');
      for (const n of p.notCovered) lines.push(`  - ${n}`);
    } else lines.push('the grant covers all of it (it runs holding only what it declares).');
  }
  return `${lines.join('\n')}\n`;
}

function writeFileAtomic(path: string, bytes: Uint8Array): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o755 });
  const tmp = `${path}.tmp-${process.pid}`;
  const fd = openSync(tmp, fsc.O_WRONLY | fsc.O_CREAT | fsc.O_TRUNC | fsc.O_NOFOLLOW, 0o644);
  try {
    writeSync(fd, bytes);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    renameSync(tmp, path);
  } catch (e) {
    unlinkSync(tmp);
    throw e;
  }
}

/** Carry out a plan: policy (transitional pins first on an upgrade), file, launcher. */
export function applyInstall(p: InstallPlan, o: Pick<InstallOptions, 'binDir' | 'force' | 'env'>): string[] {
  const done: string[] = [];
  withPolicyLock(p.policyPath, () => {
    const now = readPolicyFile(p.policyPath);
    const raw = ((now.doc.plugins ?? {}) as Record<string, unknown>)[p.type];
    if (JSON.stringify(raw ?? null) !== p.basis) throw new Error(`the entry for "${p.type}" in ${p.policyPath} changed while this install was being prepared; run it again`);
    // Keep whatever else changed meanwhile: apply our entry to the current document.
    const entry = (p.doc.plugins as Record<string, unknown>)[p.type] as Record<string, unknown>;
    if (p.transitional && p.destSha256 !== undefined) {
      writePolicyFile(p.policyPath, withEntry(now.doc, p.type, { ...entry, sha256: [p.destSha256, p.sha256] }));
    }
    if (p.destSha256 !== p.sha256) {
      writeFileAtomic(p.dest, p.bytes);
      done.push(`copied   ${p.dest}`);
    } else done.push(`kept     ${p.dest} (identical)`);
    writePolicyFile(p.policyPath, withEntry(now.doc, p.type, entry));
    done.push(`granted  "${p.type}" in ${p.policyPath} (sha256 ${p.sha256})`);
  });
  if (o.binDir) {
    const entry = cniWasmEntry();
    for (const a of installLauncher({ dir: o.binDir, plugins: [p.type], mode: 'launcher', force: o.force === true, entry, node: process.execPath })) {
      done.push(`${a.action.padEnd(8)} ${a.path} (cni-wasm answers as "${p.type}")`);
    }
  }
  return done;
}

interface CliOpts {
  name?: string;
  grant?: string[];
  grantDeclared?: boolean;
  replaceGrant?: boolean;
  pluginDir?: string;
  policy?: string;
  binDir?: string;
  force?: boolean;
  dryRun?: boolean;
}

export function registerInstall(plugin: Command): void {
  plugin
    .command('install')
    .description('copy a plugin into the plugin directory and grant it capabilities in the policy, pinned to its sha256')
    .argument('<file.wasm>', 'the plugin component (from plugin build)')
    .option('--name <type>', 'the plugin type it serves (default: the file name without .wasm)')
    .option('--grant <capability>', 'grant a capability (repeatable): links.container, links.create=veth, \'sysctl.container: "net.ipv4.conf.*.*"\', \'files.read=${ipam.resolvConf}\', a JSON object or @file.json', (v: string, acc: string[]) => [...acc, v], [] as string[])
    .option('--grant-declared', 'grant exactly the capabilities the plugin declares (shown before writing)')
    .option('--replace-grant', 'allow replacing an existing grant with a wider one')
    .option('--plugin-dir <dir>', 'where plugins are installed (default: env CNI_WASM_PLUGIN_DIR, else plugins/ beside the binary)')
    .option('--policy <file>', 'the policy file (default: env CNI_WASM_POLICY, else /etc/cni/cni-wasm/policy.json)')
    .option('--bin-dir <dir>', 'also make cni-wasm answer as <type> in this CNI bin directory (like cni-wasm install)')
    .option('--force', 'replace a file in the plugin or bin directory that is not accounted for by the policy (e.g. a first-party plugin)')
    .option('--dry-run', 'show what would be installed and granted; write nothing')
    .addHelpText(
      'after',
      '\nExamples:\n' +
        '  cni-wasm plugin install build/tune.wasm --grant-declared\n' +
        '  cni-wasm plugin install build/tune.wasm --grant links.container --grant \'sysctl.container=net.ipv4.conf.*.*\' --bin-dir /opt/cni/bin\n',
    )
    .action((file: string, opts: CliOpts) => {
      const o: InstallOptions = {
        file,
        name: opts.name,
        grants: opts.grant,
        grantDeclared: opts.grantDeclared,
        replaceGrant: opts.replaceGrant,
        pluginDir: opts.pluginDir,
        policy: opts.policy,
        binDir: opts.binDir,
        force: opts.force,
      };
      const plan = planInstall(o);
      process.stdout.write(formatPlan(plan));
      if (opts.dryRun) {
        process.stdout.write('\n(dry run: nothing written)\n');
        return;
      }
      const done = applyInstall(plan, o);
      process.stdout.write(`\n${done.join('\n')}\n`);
    });
}
