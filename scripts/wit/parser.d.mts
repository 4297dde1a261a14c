export class WitError extends Error {
  constructor(message: string, line?: number, col?: number);
}
/** Parses and resolves WIT source; throws WitError (with line:column) on anything unsupported. */
export function parseWit(src: string): {
  package: { namespace: string; name: string; version: string | null };
  interfaces: { name: string; funcs: { name: string }[]; types: { name: string; kind: string }[] }[];
  worlds: { name: string; imports: { name: string }[]; exports: { name: string }[] }[];
};
