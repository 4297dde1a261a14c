// Types for lib.mjs (used from TypeScript tests and, later, the `cni-wasm plugin build` command).

export declare const REPO_ROOT: string;
export declare const CAPABILITIES_SECTION: 'cni-wasm:capabilities';
export declare const WIT_WORLD: string;
export declare const HANDLER_INTERFACE: string;
export declare const HANDLER_FUNCS: readonly string[];

export interface CompilerSettings {
  runtime: 'stub' | 'incremental' | 'minimal';
  optimizeLevel: number;
  shrinkLevel: number;
  converge: boolean;
  /** Pages of 64 KiB. */
  maximumMemory: number;
  noAssert: boolean;
}
export declare const DEFAULT_OPTIONS: Readonly<CompilerSettings>;

export interface BuildOptions extends Partial<CompilerSettings> {
  sdkDir?: string;
  witPath?: string;
  renameScript?: string;
  /** Rebuild even when the stamp says nothing changed. */
  force?: boolean;
  /** Where the inputs hash is kept; default `<outFile>.stamp.json`; null: never skip. */
  stampFile?: string | null;
}

export interface BuildResult {
  name: string;
  outFile: string;
  skipped: boolean;
  hash: string;
  coreSize: number;
  componentSize: number;
  timings: { total: number; asc?: number; rename?: number; componentize?: number };
  /** asc's warnings and infos of a successful build ("" when clean; absent when skipped). */
  diagnostics?: string;
}

export declare class PluginBuildError extends Error {}

export declare function buildPlugin(dir: string, outFile: string, opts?: BuildOptions): Promise<BuildResult>;
export declare function findPlugins(root?: string): string[];
export declare function inputsHash(pluginDir: string, opts: BuildOptions & CompilerSettings & { sdkDir: string; witPath: string; renameScript: string }): string;
export declare function readCapabilities(pluginDir: string, name: string): Uint8Array;
export declare function validateCapabilities(doc: unknown, where: string): Promise<void>;

export interface CompileOptions extends CompilerSettings {
  baseDir: string;
  /** Paths relative to baseDir; every entry's exports become module exports. */
  entries: string[];
  /** --use aliases, e.g. "abort=sdk/runtime/cniwAbort". */
  use?: string[];
  extraArgs?: string[];
}
export declare function compileAssemblyScript(opts: CompileOptions): Promise<{ binary: Uint8Array<ArrayBuffer>; diagnostics: string }>;
export declare function checkCoreModule(core: Uint8Array, opts?: { maximumMemory?: number }): string[];
export declare function renameExports(core: Uint8Array, renameScript: string, mapFile: string): Promise<Uint8Array<ArrayBuffer>>;
export declare function componentize(core: Uint8Array, witSource: string, world?: string): Promise<Uint8Array<ArrayBuffer>>;
export declare function mainCoreModule(component: Uint8Array): Uint8Array<ArrayBuffer>;
