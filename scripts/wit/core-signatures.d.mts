export interface CoreSignature {
  module?: string;
  name: string;
  params: string[];
  results: string[];
}
export function coreSignatures(wasm: Uint8Array): { imports: Required<CoreSignature>[]; exports: CoreSignature[] };
