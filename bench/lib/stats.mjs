// Summary statistics for the benchmarks. Quantiles are nearest-rank (no interpolation), so
// every figure reported is a time that was actually measured.

/** { n, median, p90, min, max, mean } of a list of numbers (all undefined for an empty list). */
export function stats(xs) {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (s.length === 0) return { n: 0, median: undefined, p90: undefined, min: undefined, max: undefined, mean: undefined };
  const q = (p) => s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))];
  return { n: s.length, median: q(0.5), p90: q(0.9), min: s[0], max: s[s.length - 1], mean: s.reduce((a, b) => a + b, 0) / s.length };
}

/** Ratios b[i] / a[i], pair by pair (runs made alternately, so machine noise hits both members of a pair). */
export function pairRatios(a, b) {
  const out = [];
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] > 0 && Number.isFinite(b[i])) out.push(b[i] / a[i]);
  return out;
}

/** Differences b[i] - a[i], pair by pair. */
export function pairDiffs(a, b) {
  const out = [];
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (Number.isFinite(a[i]) && Number.isFinite(b[i])) out.push(b[i] - a[i]);
  return out;
}

export const round = (x, d = 2) => (x === undefined || !Number.isFinite(x) ? x : Math.round(x * 10 ** d) / 10 ** d);

/** Every number in a stats object rounded (for JSON). */
export function roundStats(st, d = 2) {
  const out = {};
  for (const [k, v] of Object.entries(st)) out[k] = typeof v === 'number' ? round(v, d) : v;
  return out;
}
