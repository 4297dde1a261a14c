#!/usr/bin/env node
// Post-link step for AssemblyScript plugins: asc cannot emit export names with
// `:/@#`, so the generated trampolines are exported as `__cniw_*` and this rewrites
// the core module's export section to the component-model names
// (`cni:plugin/handler@0.1.0#add`, `cabi_post_cni:plugin/handler@0.1.0#add`, ...).
//
//   node scripts/wit/rename-exports.mjs <in.wasm> [out.wasm] [--map names.json]
//
// The map defaults to plugins-as/sdk/generated/export-names.json (written by
// generate.mjs). Only the export section changes; every other byte is copied.
// An export whose name starts with `__cniw_` but is not in the map is an error,
// as is a rename that would produce a duplicate export name.

import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
export const DEFAULT_MAP_PATH = join(HERE, '../../plugins-as/sdk/generated/export-names.json');

function readU32(bytes, pos) {
  let result = 0;
  let shift = 0;
  for (let i = 0; i < 5; i++) {
    if (pos >= bytes.length) throw new Error('truncated LEB128');
    const b = bytes[pos++];
    result += (b & 0x7f) * 2 ** shift;
    if ((b & 0x80) === 0) return [result, pos];
    shift += 7;
  }
  throw new Error('LEB128 too long');
}

function writeU32(n) {
  const out = [];
  do {
    let b = n & 0x7f;
    n = Math.floor(n / 128);
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
}

/** Returns a copy of `wasm` (a core module) with its exports renamed per `map`. */
export function renameExports(wasm, map) {
  const bytes = wasm instanceof Uint8Array ? wasm : new Uint8Array(wasm);
  const magic = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
  if (bytes.length < 8 || magic.some((b, i) => bytes[i] !== b)) throw new Error('not a core wasm module (bad magic/version)');
  const parts = [bytes.subarray(0, 8)];
  const decoder = new TextDecoder('utf-8', { fatal: true });
  const encoder = new TextEncoder();
  let pos = 8;
  let renamed = 0;
  let sawExports = false;
  while (pos < bytes.length) {
    const id = bytes[pos];
    const [size, start] = readU32(bytes, pos + 1);
    const end = start + size;
    if (end > bytes.length) throw new Error(`section ${id} runs past the end of the module`);
    if (id !== 7) {
      parts.push(bytes.subarray(pos, end));
      pos = end;
      continue;
    }
    if (sawExports) throw new Error('more than one export section');
    sawExports = true;
    let p = start;
    let count;
    [count, p] = readU32(bytes, p);
    const body = [...writeU32(count)];
    const names = new Set();
    for (let i = 0; i < count; i++) {
      let len;
      [len, p] = readU32(bytes, p);
      let name = decoder.decode(bytes.subarray(p, p + len));
      p += len;
      const kind = bytes[p++];
      let index;
      [index, p] = readU32(bytes, p);
      if (Object.hasOwn(map, name)) {
        name = map[name];
        renamed++;
      } else if (name.startsWith('__cniw_')) {
        throw new Error(`export '${name}' has no component-model name in the map (regenerate the bindings?)`);
      }
      if (names.has(name)) throw new Error(`duplicate export '${name}' after renaming`);
      names.add(name);
      const nb = encoder.encode(name);
      body.push(...writeU32(nb.length), ...nb, kind, ...writeU32(index));
    }
    if (p !== end) throw new Error('export section has trailing bytes');
    parts.push(Uint8Array.of(7, ...writeU32(body.length)), Uint8Array.from(body));
    pos = end;
  }
  const out = new Uint8Array(parts.reduce((n, x) => n + x.length, 0));
  let o = 0;
  for (const x of parts) { out.set(x, o); o += x.length; }
  return { wasm: out, renamed };
}

export function loadDefaultMap() {
  return JSON.parse(readFileSync(DEFAULT_MAP_PATH, 'utf8'));
}

function main() {
  const args = process.argv.slice(2);
  let mapPath = DEFAULT_MAP_PATH;
  const files = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--map') mapPath = args[++i];
    else files.push(args[i]);
  }
  if (files.length < 1 || files.length > 2 || !mapPath) {
    console.error('usage: rename-exports.mjs <in.wasm> [out.wasm] [--map names.json]');
    process.exit(2);
  }
  const map = JSON.parse(readFileSync(mapPath, 'utf8'));
  const { wasm, renamed } = renameExports(readFileSync(files[0]), map);
  writeFileSync(files[1] ?? files[0], wasm);
  console.log(`renamed ${renamed} exports`);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
