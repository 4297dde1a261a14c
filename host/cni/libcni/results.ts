// Results as libcni handles them: a plugin's stdout decoded as a typed result (a result that
// names no version is of its config's version, libcni issue #895), converted to the list's
// version when read back from the cache, and marshalled back to JSON as Go would for the next
// plugin's prevResult and for the cache file. Shapes and conversions come from ../result.ts.
import { CniError, ErrorCode } from '../errors.ts';
import { convertResult, parseResult, resultToJSON, type AnyResult } from '../result.ts';

export type { AnyResult } from '../result.ts';

/** The result a plugin printed; `confVersion` is the cniVersion of the config it was given. */
export function resultFromPluginOutput(confVersion: string, stdout: Buffer): AnyResult {
  let parsed: unknown;
  try {
    parsed = JSON.parse(stdout.toString('utf8'));
  } catch (e) {
    throw new CniError(ErrorCode.DecodeFailure, `failed to unmarshal raw result: ${(e as Error).message}`, stdout.toString('utf8').slice(0, 512));
  }
  // A plugin printing "null" gets a result of its config's version with nothing in it.
  if (parsed === null) parsed = {};
  return parseResult(parsed, 'result', { code: ErrorCode.DecodeFailure, versionIfMissing: confVersion === '' ? '0.1.0' : confVersion });
}

/** A result read back from the cache (its own cniVersion, 0.1.0 when it names none). */
export function resultFromCache(raw: Record<string, unknown>): AnyResult {
  return parseResult(raw, 'cached result', { code: ErrorCode.DecodeFailure });
}

/** The result in `version` (libcni GetAsVersion). */
export function resultAsVersion(result: AnyResult, version: string): AnyResult {
  return result.cniVersion === version ? result : convertResult(result, version);
}

/** The result as the JSON object Go marshals it to (what plugins get as prevResult, and the cache stores). */
export function resultToObject(result: AnyResult): Record<string, unknown> {
  return JSON.parse(resultToJSON(result)) as Record<string, unknown>;
}

/** The result as cnitool prints it (4-space indent, Go's field order). */
export function printResult(result: AnyResult): string {
  return resultToJSON(result);
}
