// Types for wasm-sections.mjs.
export declare const CORE_PREAMBLE: Uint8Array;
export declare const COMPONENT_PREAMBLE: Uint8Array;
export declare class WasmFormatError extends Error {}
export declare function binaryKind(bytes: Uint8Array): 'module' | 'component';
export declare function readU32(bytes: Uint8Array, pos: number): [number, number];
export declare function encodeU32(n: number): Uint8Array;
export interface Section {
  id: number;
  start: number;
  end: number;
  payloadStart: number;
  name?: string;
}
export declare function sections(bytes: Uint8Array): Section[];
export declare function customSections(bytes: Uint8Array, name: string): Uint8Array<ArrayBuffer>[];
export declare function setCustomSection(bytes: Uint8Array, name: string, payload: Uint8Array): Uint8Array<ArrayBuffer>;
export declare function memoryLimits(module: Uint8Array): { min: number; max: number | undefined; shared: boolean; memory64: boolean }[];
export declare function componentCoreModules(component: Uint8Array): Uint8Array<ArrayBuffer>[];
