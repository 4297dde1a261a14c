export const DEFAULT_MAP_PATH: string;
export function renameExports(wasm: Uint8Array, map: Record<string, string>): { wasm: Uint8Array<ArrayBuffer>; renamed: number };
export function loadDefaultMap(): Record<string, string>;
