// Build every AssemblyScript plugin (plugins-as/<name>/ and plugins-as/ipam/<name>/ with an index.ts, except sdk/) into
// dist/plugins/<name>.wasm, a component checked against wit/plugin.wit with its capability
// manifest embedded. Unchanged plugins are skipped (a hash of every input is kept beside each
// output as <name>.wasm.stamp.json), so the build inside `npm test` stays fast.
//
//   node scripts/build-plugins.mjs [--force] [name...]
//
// Called at the end of scripts/build.mjs; the logic lives in scripts/plugin-build/lib.mjs.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { REPO_ROOT, buildPlugin, findPlugins } from './plugin-build/lib.mjs';

const kib = (n) => `${(n / 1024).toFixed(1)} KiB`;

/**
 * Builds the plugins (all, or those named) into outDir. Returns the per-plugin results.
 * Prints one line per plugin; throws on the first failure.
 */
export async function buildPlugins({ outDir = path.join(REPO_ROOT, 'dist', 'plugins'), only = [], force = false, log = console.log } = {}) {
  // IPAM plugins live one level down (plugins-as/ipam/<name>/ -> <name>.wasm).
  const dirs = [...findPlugins(), ...findPlugins(path.join(REPO_ROOT, 'plugins-as', 'ipam'))].filter(
    (d) => only.length === 0 || only.includes(path.basename(d)),
  );
  const missing = only.filter((n) => !dirs.some((d) => path.basename(d) === n));
  if (missing.length) throw new Error(`no plugin named ${missing.join(', ')} under plugins-as/`);
  const results = [];
  for (const dir of dirs) {
    const name = path.basename(dir);
    const r = await buildPlugin(dir, path.join(outDir, `${name}.wasm`), { force });
    results.push(r);
    const where = path.relative(process.cwd(), r.outFile);
    if (r.skipped) log(`plugin ${name}: unchanged (${where}, ${kib(r.componentSize)})`);
    else {
      const t = r.timings;
      log(
        `plugin ${name}: ${where} ${kib(r.componentSize)} (core ${kib(r.coreSize)}) in ${t.total} ms ` +
          `(asc ${t.asc} ms, rename+manifest ${t.rename} ms, componentize ${t.componentize} ms)`,
      );
      if (r.diagnostics) log(r.diagnostics);
    }
  }
  return results;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  try {
    await buildPlugins({ force: args.includes('--force'), only: args.filter((a) => !a.startsWith('--')) });
  } catch (e) {
    console.error(e.message);
    process.exit(1);
  }
}
