// `plugin build` (host/cli/plugin/build.ts): what it refuses before compiling anything, with
// messages that say what to fix; and a WAT project end to end (fast: no AssemblyScript).
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildProject } from '../../host/cli/plugin/build.ts';
import { inspectFile } from '../../host/cli/plugin/inspect.ts';
import { cniWasmRoot } from '../../host/cli/plugin/paths.ts';

const top = mkdtempSync(join(tmpdir(), 'plugin-build-'));
afterAll(() => rmSync(top, { recursive: true, force: true }));
const root = cniWasmRoot();
let n = 0;
function project(files: Record<string, string>): string {
  const d = join(top, `p${++n}`);
  mkdirSync(d);
  for (const [f, text] of Object.entries(files)) writeFileSync(join(d, f), text);
  return d;
}
const AS_SOURCE = 'import { Handler } from "@cni-wasm/sdk";\nexport * from "@cni-wasm/sdk/generated/exports";\n';

describe('plugin build refuses early, saying what to fix', () => {
  it('no capabilities.json, an invalid one, nothing to build', async () => {
    await expect(buildProject({ dir: project({ 'index.ts': AS_SOURCE }), root })).rejects.toThrow(/capabilities\.json is missing: every plugin declares its capabilities/);
    await expect(buildProject({ dir: project({ 'index.ts': AS_SOURCE, 'capabilities.json': '{"links": {"create": ["tap"]}, "fw": true}' }), root })).rejects.toThrow(
      /2 problems: fw: unknown key.*links\.create\[0\]: unknown link kind "tap".*docs\/capabilities\.md/s,
    );
    await expect(buildProject({ dir: project({ 'capabilities.json': '{"version": 1}' }), root })).rejects.toThrow(/neither index\.ts \(AssemblyScript\) nor index\.wat/);
    await expect(buildProject({ dir: join(top, 'nowhere'), root })).rejects.toThrow(/does not exist/);
  });

  it('the SDK package missing, or speaking another WIT version', async () => {
    const d = project({ 'index.ts': AS_SOURCE, 'capabilities.json': '{"version": 1}' });
    await expect(buildProject({ dir: d, root })).rejects.toThrow(/imports @cni-wasm\/sdk, which is not installed for this project.*npm install/s);
    // An SDK copy whose package.json claims another WIT package.
    const sdk = join(top, 'old-sdk');
    cpSync(join(root, 'plugins-as', 'sdk'), sdk, { recursive: true });
    const pkg = JSON.parse(readFileSync(join(sdk, 'package.json'), 'utf8')) as { cniWasm: { wit: string } };
    pkg.cniWasm.wit = 'cni:plugin@0.0.9';
    writeFileSync(join(sdk, 'package.json'), JSON.stringify(pkg));
    mkdirSync(join(d, 'node_modules', '@cni-wasm'), { recursive: true });
    symlinkSync(sdk, join(d, 'node_modules', '@cni-wasm', 'sdk'));
    await expect(buildProject({ dir: d, root })).rejects.toThrow(/speaks cni:plugin@0\.0\.9, this cni-wasm speaks cni:plugin@0\.1\.0/);
  });

  it('without the build tools (a production install), names them and how to get them', async () => {
    const fakeRoot = join(top, 'prod-install');
    mkdirSync(join(fakeRoot, 'wit'), { recursive: true });
    writeFileSync(join(fakeRoot, 'package.json'), '{"name": "cni-wasm"}');
    cpSync(join(root, 'wit', 'plugin.wit'), join(fakeRoot, 'wit', 'plugin.wit'));
    const d = project({ 'index.wat': '(module)', 'capabilities.json': '{"version": 1}' });
    await expect(buildProject({ dir: d, root: fakeRoot })).rejects.toThrow(/needs the AssemblyScript compiler and jco \(assemblyscript, @bytecodealliance\/jco missing.*npm ci --omit=dev.*run "npm ci"/s);
  });
});

describe('a WAT project', () => {
  it('builds into a component the host accepts, with its manifest', async () => {
    const d = join(top, 'passthrough');
    cpSync(join(root, 'examples', 'passthrough'), d, { recursive: true });
    rmSync(join(d, 'build'), { recursive: true, force: true });
    const r = await buildProject({ dir: d, root });
    expect(r.type).toBe('passthrough');
    expect(r.language).toBe('wat');
    expect(r.outFile).toBe(join(d, 'build', 'passthrough.wasm'));
    const i = inspectFile(r.outFile);
    expect(i.accepted).toBe(true);
    expect(i.sha256).toBe(r.sha256);
    expect(i.capabilities).toEqual({ version: 1 });
    expect(i.imports.functions).toEqual(['log.write']);
  });

  it('a module missing what the ABI requires is refused, naming it', async () => {
    const d = project({
      'index.wat': '(module (memory (export "memory") 1 1) (func (export "cni:plugin/handler@0.1.0#add") (param i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32) (result i32) (i32.const 0)))',
      'capabilities.json': '{"version": 1}',
    });
    await expect(buildProject({ dir: d, root })).rejects.toThrow(/does not export cni:plugin\/handler@0\.1\.0#del.*does not export cabi_realloc.*docs\/abi\.md/s);
    const e = project({ 'index.wat': '(module (import "env" "seed" (func (result f64))))', 'capabilities.json': '{"version": 1}' });
    await expect(buildProject({ dir: e, root })).rejects.toThrow(/imports env\.seed: Math\.random needs a seed import/);
  });
});
