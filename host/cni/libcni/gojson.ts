// JSON text as Go's encoding/json writes a decoded interface{} value: object keys sorted
// by bytes, compact, and `<`, `>`, `&`, U+2028, U+2029 escaped. libcni re-marshals every
// config and cache file this way, so writing the same bytes keeps files comparable with
// what a Go runtime writes on the same node.

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

function byteCompare(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

function goString(s: string): string {
  return JSON.stringify(s).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

export function goMarshal(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  switch (typeof value) {
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError(`json: unsupported value: ${value}`);
      return JSON.stringify(value);
    case 'string':
      return goString(value);
    case 'object': {
      if (Array.isArray(value)) return `[${value.map((v) => goMarshal(v)).join(',')}]`;
      const obj = value as Record<string, unknown>;
      const keys = Object.keys(obj)
        .filter((k) => obj[k] !== undefined)
        .sort(byteCompare);
      return `{${keys.map((k) => `${goString(k)}:${goMarshal(obj[k])}`).join(',')}}`;
    }
    default:
      throw new TypeError(`json: unsupported type: ${typeof value}`);
  }
}

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
