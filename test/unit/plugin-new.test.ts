// `plugin new` (host/cli/plugin/new.ts) and how `plugin build` finds a project's type and SDK
// (build.ts): the scaffold depends on the SDK package shipped with cni-wasm, resolvable
// offline, and the SDK's version is the WIT package's.
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SDK_ABORT, SDK_PACKAGE, findSdk, projectType, sdkWit } from '../../host/cli/plugin/build.ts';
import { scaffold } from '../../host/cli/plugin/new.ts';
import { checkTypeName, cniWasmRoot, sdkFolder, witPackage } from '../../host/cli/plugin/paths.ts';

const top = mkdtempSync(join(tmpdir(), 'plugin-new-'));
afterAll(() => rmSync(top, { recursive: true, force: true }));
const root = cniWasmRoot();

describe('the SDK package', () => {
  it('is @cni-wasm/sdk, versioned with the WIT package, in the workspace', () => {
    const pkg = JSON.parse(readFileSync(join(sdkFolder(root), 'package.json'), 'utf8')) as { name: string; version: string; cniWasm: { wit: string } };
    expect(pkg.name).toBe(SDK_PACKAGE);
    expect(witPackage(root)).toBe('cni:plugin@0.1.0');
    expect(pkg.cniWasm.wit).toBe(witPackage(root));
    expect(`cni:plugin@${pkg.version}`).toBe(witPackage(root));
    expect(sdkWit(sdkFolder(root))).toBe(witPackage(root));
    const rootPkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { workspaces: string[] };
    expect(rootPkg.workspaces).toContain('plugins-as/sdk');
    // The generated export names the build renames to carry the same version.
    const names = JSON.parse(readFileSync(join(sdkFolder(root), 'generated', 'export-names.json'), 'utf8')) as Record<string, string>;
    expect(Object.values(names).every((n) => n.includes(`@${pkg.version}#`))).toBe(true);
    expect(SDK_ABORT).toBe('abort=~lib/@cni-wasm/sdk/generated/bindings/cniwAbort');
  });
});

describe('plugin new', () => {
  it('writes a project that depends on this cni-wasm\'s SDK, linked for offline builds', () => {
    const r = scaffold({ name: 'mytune', dir: join(top, 'mytune'), root, command: 'cni-wasm' });
    expect(r.files).toEqual(['package.json', 'index.ts', 'capabilities.json', join('test', 'conflist.json'), 'README.md', '.gitignore', join('node_modules', SDK_PACKAGE)]);
    const pkg = JSON.parse(readFileSync(join(r.dir, 'package.json'), 'utf8')) as Record<string, unknown> & { scripts: Record<string, string>; dependencies: Record<string, string> };
    expect(pkg.dependencies).toEqual({ [SDK_PACKAGE]: `file:${sdkFolder(root)}` });
    expect(pkg.cniWasm).toEqual({ type: 'mytune' });
    expect(pkg.scripts.build).toBe('cni-wasm plugin build .');
    expect(pkg.scripts.test).toBe('cni-wasm plugin test build/mytune.wasm --config test/conflist.json --grant-declared');
    const link = join(r.dir, 'node_modules', SDK_PACKAGE);
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(readlinkSync(link)).toBe(sdkFolder(root));
    expect(findSdk(r.dir)).toBe(realpathSync(sdkFolder(root)));
    const src = readFileSync(join(r.dir, 'index.ts'), 'utf8');
    expect(src).toContain('from "@cni-wasm/sdk"');
    expect(src).toContain('export * from "@cni-wasm/sdk/generated/exports"');
    expect(JSON.parse(readFileSync(join(r.dir, 'capabilities.json'), 'utf8'))).toEqual({ version: 1, links: { container: true } });
    const list = JSON.parse(readFileSync(join(r.dir, 'test', 'conflist.json'), 'utf8')) as { plugins: { type: string }[] };
    expect(list.plugins.map((p) => p.type)).toEqual(['bridge', 'mytune']);
    expect(projectType(r.dir)).toEqual({ type: 'mytune' });
  });

  it('refuses a non-empty folder and names that are not plugin types', () => {
    const d = join(top, 'full');
    mkdirSync(d);
    writeFileSync(join(d, 'x'), '');
    expect(() => scaffold({ name: 'x', dir: d, root, command: 'c' })).toThrow(/exists and is not empty/);
    expect(() => scaffold({ name: '../up', dir: join(top, 'up'), root, command: 'c' })).toThrow(/invalid plugin name/);
    expect(existsSync(join(top, 'up'))).toBe(false);
    expect(() => checkTypeName('a'.repeat(65))).toThrow(/at most 64/);
  });
});

describe('project type', () => {
  it('--name, else package.json cniWasm.type, else its unscoped name, else the folder', () => {
    const d = join(top, 'folder-name');
    mkdirSync(d);
    expect(projectType(d)).toEqual({ type: 'folder-name' });
    writeFileSync(join(d, 'package.json'), JSON.stringify({ name: '@acme/tuner' }));
    expect(projectType(d)).toEqual({ type: 'tuner' });
    writeFileSync(join(d, 'package.json'), JSON.stringify({ name: '@acme/tuner', cniWasm: { type: 'tune2' } }));
    expect(projectType(d)).toEqual({ type: 'tune2' });
    expect(projectType(d, 'given')).toEqual({ type: 'given' });
    writeFileSync(join(d, 'package.json'), JSON.stringify({ cniWasm: { type: 'bad/type' } }));
    expect(() => projectType(d)).toThrow(/invalid plugin type/);
    expect(findSdk('/')).toBeUndefined();
  });
});
