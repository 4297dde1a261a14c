export const ROOT: string;
export const WIT_PATH: string;
export const WORLD: string;
/** Every generated file, by path relative to the repository root. */
export function generateAll(witSource?: string): Record<string, string>;
/** The host glue and AS bindings of any world. */
export function generateWorld(
  witSource: string,
  opts: { world: string; witPath: string },
): { host: string; as: Record<string, string> };
