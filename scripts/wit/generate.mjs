#!/usr/bin/env node
// Generates, from wit/plugin.wit (world `plugin`):
//   host/runtime/generated/abi.ts       TypeScript types and canonical-ABI host glue
//   plugins-as/sdk/generated/*.ts       AssemblyScript bindings, trampolines, cabi_realloc
// `node scripts/wit/generate.mjs` writes them; `--check` only reports drift (exit 1).
// generateAll() is what test/unit/wit-drift.test.ts compares against the committed files.

import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseWit } from './parser.mjs';
import { generateHost } from './gen-host.mjs';
import { generateAs } from './gen-as.mjs';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const WIT_PATH = 'wit/plugin.wit';
export const WORLD = 'plugin';

/**
 * Generates the host glue and the AS bindings of any world (the project's or a test's);
 * returns { host: content, as: { fileName: content } }.
 */
export function generateWorld(witSource, { world, witPath }) {
  return {
    host: generateHost(parseWit(witSource), { witPath, world }),
    as: generateAs(parseWit(witSource), { witPath, world }),
  };
}

/** Generates every output from WIT source; returns { relativePath: content }. */
export function generateAll(witSource = readFileSync(join(ROOT, WIT_PATH), 'utf8')) {
  const files = {};
  const { host, as } = generateWorld(witSource, { world: WORLD, witPath: WIT_PATH });
  files['host/runtime/generated/abi.ts'] = host;
  for (const [name, content] of Object.entries(as)) files[`plugins-as/sdk/generated/${name}`] = content;
  return files;
}

function main() {
  const check = process.argv.includes('--check');
  const files = generateAll();
  let stale = 0;
  for (const [rel, content] of Object.entries(files)) {
    const abs = join(ROOT, rel);
    let old = null;
    try { old = readFileSync(abs, 'utf8'); } catch { /* new file */ }
    if (old === content) continue;
    if (check) { console.error(`stale: ${rel}`); stale++; continue; }
    mkdirSync(dirname(abs), { recursive: true });
    writeFileSync(abs, content);
    console.log(`wrote ${rel}`);
  }
  if (stale) process.exit(1);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
