// Compile the tiny N-API addon (host/sys/native/cniw.c) against this Node's headers.
// Done at build time (npm ci → prepare) so that nothing is compiled at run time.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';

function nodeIncludeDir() {
  const candidates = [
    process.env.npm_config_nodedir && join(process.env.npm_config_nodedir, 'include', 'node'),
    join(dirname(dirname(process.execPath)), 'include', 'node'),
    '/usr/include/node',
    '/usr/local/include/node',
  ].filter(Boolean);
  const dir = candidates.find((d) => existsSync(join(d, 'node_api.h')));
  if (!dir) {
    throw new Error(`cannot find node_api.h (looked in ${candidates.join(', ')}); install Node's headers or set npm_config_nodedir`);
  }
  return dir;
}

export function buildNative(outDir = 'dist/native') {
  mkdirSync(outDir, { recursive: true });
  const cc = process.env.CC || 'cc';
  execFileSync(
    cc,
    ['-shared', '-fPIC', '-O2', '-Wall', '-Werror', `-I${nodeIncludeDir()}`, '-o', join(outDir, 'cniw.node'), 'host/sys/native/cniw.c'],
    { stdio: 'inherit' },
  );
}

if (import.meta.url === `file://${process.argv[1]}`) buildNative();
