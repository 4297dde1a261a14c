// Version comparison as libcni does it (pkg/version ParseVersion): "" means 0.1.0, and
// "1", "1.0", "1.0.0" are all accepted. Stricter parsing lives in ../version.ts; libcni's
// gates (CHECK >= 0.4.0, GC/STATUS >= 1.1.0, cniVersions selection) use this leniency.
import { CniError, ErrorCode } from '../errors.ts';

export type Triple = [number, number, number];

export function parseLibcniVersion(v: string): Triple {
  if (v === '') return [0, 1, 0];
  const parts = v.split('.');
  if (parts.length >= 4) throw new CniError(ErrorCode.InvalidConfig, `invalid version "${v}": too many parts`);
  const out: Triple = [0, 0, 0];
  parts.forEach((p, i) => {
    // Go's strconv.Atoi: optional sign, decimal digits only.
    if (!/^[+-]?\d+$/.test(p)) {
      const which = ['major', 'minor', 'micro'][i]!;
      throw new CniError(ErrorCode.InvalidConfig, `invalid version "${v}": failed to convert ${which} version part "${p}"`);
    }
    out[i] = Number(p);
  });
  return out;
}

/** a - b, sign only matters. Throws on a version libcni cannot parse. */
export function cmpVersion(a: string, b: string): number {
  const pa = parseLibcniVersion(a);
  const pb = parseLibcniVersion(b);
  for (let i = 0; i < 3; i++) {
    const d = pa[i]! - pb[i]!;
    if (d !== 0) return d;
  }
  return 0;
}

export function versionGte(a: string, b: string): boolean {
  return cmpVersion(a, b) >= 0;
}

/** versionGte, with an unparseable version counting as "no" (libcni ignores the error for GC/STATUS). */
export function versionGteOrFalse(a: string, b: string): boolean {
  try {
    return versionGte(a, b);
  } catch {
    return false;
  }
}
