// Raw stdin/stdout for the plugin path. fs on fds 0 and 1 avoids building
// process.stdin/stdout streams, which costs milliseconds at start-up.
import { readSync, writeSync } from 'node:fs';

function sleepMs(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

export function readAllStdin(): string {
  const chunks: Buffer[] = [];
  const buf = Buffer.allocUnsafe(64 * 1024);
  for (;;) {
    let n: number;
    try {
      n = readSync(0, buf, 0, buf.length, null);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EAGAIN') {
        sleepMs(1); // a non-blocking pipe inherited from the parent: wait for data
        continue;
      }
      if (code === 'EOF' || code === 'EBADF') break; // closed or absent stdin reads as empty
      throw e;
    }
    if (n === 0) break;
    chunks.push(Buffer.from(buf.subarray(0, n)));
  }
  return Buffer.concat(chunks).toString('utf8');
}

export function writeStdout(text: string): void {
  const data = Buffer.from(text);
  let off = 0;
  while (off < data.length) {
    try {
      off += writeSync(1, data, off, data.length - off);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EAGAIN') {
        sleepMs(1);
        continue;
      }
      throw e;
    }
  }
}
