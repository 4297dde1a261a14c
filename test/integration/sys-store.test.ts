// host/sys/store on the real filesystem and kernel locks: every operation read back,
// error paths, 50 separate processes allocating under the lock, a SIGKILLed holder,
// and interoperation with the reference host-local IPAM plugin (same files, same lock).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isSysError } from '../../host/sys/errors.ts';
import { openStore, validateName } from '../../host/sys/store/index.ts';
import { cleanup, makeNetns } from '../harness/netns.ts';

const ROOT = mkdtempSync(join(tmpdir(), 'cniw-store-'));
let worker = '';

function modeOf(p: string): number {
  return statSync(p).mode & 0o777;
}

function errnoOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (isSysError(e)) return e.errno;
    throw e;
  }
  throw new Error('expected a SysError, nothing was thrown');
}

beforeAll(async () => {
  if (!existsSync('dist/native/cniw.node')) {
    const { buildNative } = (await import('../../scripts/build-native.mjs' as string)) as { buildNative: (d?: string) => void };
    buildNative('dist/native');
  }
  // The bundle looks for the addon at ./native/cniw.node relative to itself.
  mkdirSync(join(ROOT, 'native'), { recursive: true });
  copyFileSync('dist/native/cniw.node', join(ROOT, 'native', 'cniw.node'));
  await build({
    entryPoints: ['test/fixtures/sys/store-worker.ts'],
    outfile: join(ROOT, 'store-worker.mjs'),
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    logLevel: 'warning',
  });
  worker = join(ROOT, 'store-worker.mjs');
});

afterAll(() => {
  cleanup();
  rmSync(ROOT, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
});

let n = 0;
function freshDir(): string {
  return join(ROOT, `s${n++}`, 'net1');
}

describe('store operations', () => {
  it('creates the directory 0755 and files 0644, and reads back what it wrote', () => {
    const dir = freshDir();
    const s = openStore(dir);
    expect(modeOf(dir)).toBe(0o755);
    expect(s.createExclusive('10.1.0.2', 'ctr-a\r\neth0')).toBe(true);
    expect(readFileSync(join(dir, '10.1.0.2'), 'utf8')).toBe('ctr-a\r\neth0');
    expect(modeOf(join(dir, '10.1.0.2'))).toBe(0o644);
    expect(s.read('10.1.0.2')).toBe('ctr-a\r\neth0');
    expect(Buffer.from(s.readBytes('10.1.0.2')!).toString()).toBe('ctr-a\r\neth0');
    expect(s.read('10.1.0.3')).toBeUndefined();
  });

  it('createExclusive refuses an existing name and leaves its content alone', () => {
    const s = openStore(freshDir());
    expect(s.createExclusive('a', 'one')).toBe(true);
    expect(s.createExclusive('a', 'two')).toBe(false);
    expect(s.read('a')).toBe('one');
    // no temporaries left behind, neither by success nor by refusal
    expect(readdirSync(s.dir)).toEqual(['a']);
  });

  it('replace writes atomically over an existing file and creates a missing one', () => {
    const s = openStore(freshDir());
    s.replace('last_reserved_ip.0', '10.1.0.2');
    expect(s.read('last_reserved_ip.0')).toBe('10.1.0.2');
    const inoBefore = statSync(join(s.dir, 'last_reserved_ip.0')).ino;
    s.replace('last_reserved_ip.0', new TextEncoder().encode('10.1.0.3'));
    expect(readFileSync(join(s.dir, 'last_reserved_ip.0'), 'utf8')).toBe('10.1.0.3');
    // a new inode renamed into place, not the old file rewritten in place
    expect(statSync(join(s.dir, 'last_reserved_ip.0')).ino).not.toBe(inoBefore);
    expect(modeOf(join(s.dir, 'last_reserved_ip.0'))).toBe(0o644);
    expect(readdirSync(s.dir)).toEqual(['last_reserved_ip.0']);
  });

  it('lists entries sorted, without the lock file and temporaries; remove reports absence', () => {
    const s = openStore(freshDir());
    s.createExclusive('b', '2');
    s.createExclusive('a', '1');
    s.replace('c', '3');
    s.lock()();
    writeFileSync(join(s.dir, '.tmp-x.1.abcd'), 'stale');
    mkdirSync(join(s.dir, 'subdir'));
    expect(existsSync(join(s.dir, 'lock'))).toBe(true);
    expect(s.list()).toEqual(['a', 'b', 'c']);
    expect(s.remove('b')).toBe(true);
    expect(existsSync(join(s.dir, 'b'))).toBe(false);
    expect(s.remove('b')).toBe(false);
    expect(s.list()).toEqual(['a', 'c']);
  });

  it('rejects names that could escape or clash', () => {
    const s = openStore(freshDir());
    for (const bad of ['', '.', '..', '../x', 'a/b', '/etc/passwd', 'a\0b', '.hidden', 'lock', 'x'.repeat(256)]) {
      expect(errnoOf(() => validateName(bad)), bad).toBe('EINVAL');
      expect(errnoOf(() => s.createExclusive(bad, 'x')), bad).toBe('EINVAL');
      expect(errnoOf(() => s.replace(bad, 'x')), bad).toBe('EINVAL');
      expect(errnoOf(() => s.read(bad)), bad).toBe('EINVAL');
      expect(errnoOf(() => s.remove(bad)), bad).toBe('EINVAL');
    }
    // IPv6 and host-local names are fine, and so is the longest name a directory entry can have
    for (const good of ['fd00::1', '10.0.0.1', 'last_reserved_ip.0', 'x'.repeat(255), 'é'.repeat(127)]) {
      validateName(good);
      expect(s.createExclusive(good, 'a'), good).toBe(true);
      s.replace(good, 'b');
      expect(s.read(good)).toBe('b');
    }
    expect(s.list()).toHaveLength(5);
  });

  it('reports filesystem errors as SysError with the errno name', () => {
    const base = join(ROOT, `s${n++}`);
    mkdirSync(base);
    writeFileSync(join(base, 'file'), '');
    expect(errnoOf(() => openStore(join(base, 'file', 'net')))).toBe('ENOTDIR');
    expect(errnoOf(() => openStore(join(base, 'missing'), { create: false }).list())).toBe('ENOENT');
    expect(errnoOf(() => openStore(''))).toBe('EINVAL');
    // a symlink planted under an entry name is not followed
    const s = openStore(join(base, 'net'));
    writeFileSync(join(base, 'secret'), 'secret');
    symlinkSync(join(base, 'secret'), join(s.dir, 'planted'));
    expect(errnoOf(() => s.read('planted'))).toBe('ELOOP');
    // a directory where an entry should be
    mkdirSync(join(s.dir, 'adir'));
    expect(errnoOf(() => s.replace('adir', 'x'))).toBe('EISDIR');
    expect(errnoOf(() => s.remove('adir'))).toBe('EISDIR');
  });
});

describe('the lock', () => {
  it('is exclusive across processes, times out with ETIMEDOUT, and is not re-entrant', () => {
    const s = openStore(freshDir());
    const release = s.lock();
    expect(errnoOf(() => s.lock({ timeoutMs: 0 }))).toBe('EDEADLK');
    // another process sees it held: flock -n exits 1
    const r = spawnSync('flock', ['-n', join(s.dir, 'lock'), 'true']);
    expect(r.status).toBe(1);
    release();
    release(); // idempotent
    expect(spawnSync('flock', ['-n', join(s.dir, 'lock'), 'true']).status).toBe(0);
    // held by another process → ETIMEDOUT after about the deadline
    const other = openStore(s.dir);
    const holder = spawn('flock', [join(s.dir, 'lock'), 'sleep', '5']);
    try {
      const until = Date.now() + 5000;
      while (spawnSync('flock', ['-n', join(s.dir, 'lock'), 'true']).status === 0 && Date.now() < until);
      const t0 = performance.now();
      expect(errnoOf(() => other.lock({ timeoutMs: 200 }))).toBe('ETIMEDOUT');
      const waited = performance.now() - t0;
      expect(waited).toBeGreaterThanOrEqual(195);
      expect(waited).toBeLessThan(1000);
    } finally {
      holder.kill('SIGKILL');
    }
  });

  it('a SIGKILLed holder does not block the others', async () => {
    const dir = freshDir();
    const s = openStore(dir);
    const child: ChildProcess = spawn(process.execPath, [worker, 'hold', dir], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      await new Promise<void>((resolve, reject) => {
        child.stdout!.on('data', (d: Buffer) => d.toString().includes('locked') && resolve());
        child.on('exit', (code) => reject(new Error(`holder exited early (${code})`)));
      });
      expect(errnoOf(() => s.lock({ timeoutMs: 100 }))).toBe('ETIMEDOUT');
      const exited = new Promise((r) => child.on('exit', r));
      child.kill('SIGKILL');
      await exited;
      const t0 = performance.now();
      const release = s.lock({ timeoutMs: 2000 });
      expect(performance.now() - t0).toBeLessThan(100);
      release();
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('keeps 50 processes allocating at once unique, with no lost update', async () => {
    const dir = freshDir();
    openStore(dir);
    const PROCS = 50;
    const EACH = 4;
    const runs = Array.from({ length: PROCS }, () =>
      new Promise<number[]>((resolve, reject) => {
        const c = spawn(process.execPath, [worker, 'alloc', dir, String(EACH)], { stdio: ['ignore', 'pipe', 'pipe'] });
        let out = '';
        let err = '';
        c.stdout.on('data', (d: Buffer) => (out += d.toString()));
        c.stderr.on('data', (d: Buffer) => (err += d.toString()));
        c.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out) as number[]) : reject(new Error(`worker exit ${code}: ${err}`))));
      }),
    );
    const results = await Promise.all(runs);
    const all = results.flat();
    expect(all).toHaveLength(PROCS * EACH);
    expect(new Set(all).size).toBe(PROCS * EACH);
    expect([...all].sort((a, b) => a - b)).toEqual(Array.from({ length: PROCS * EACH }, (_, i) => i));
    const s = openStore(dir);
    expect(s.read('counter')).toBe(String(PROCS * EACH));
    expect(s.list()).toHaveLength(PROCS * EACH + 1);
    // each file names the process that allocated it
    const pids = new Set(s.list().filter((x) => x !== 'counter').map((x) => s.read(x)!.split('\r\n')[0]));
    expect(pids.size).toBe(PROCS);
  }, 120_000);
});

describe('interoperation with the reference host-local plugin', () => {
  const HOST_LOCAL = '/usr/lib/cni/host-local';
  const conf = (dataDir: string) =>
    JSON.stringify({
      cniVersion: '1.0.0',
      name: 'net1',
      type: 'host-local',
      ipam: { type: 'host-local', dataDir, ranges: [[{ subnet: '10.1.2.0/24' }]] },
    });
  const env = (cmd: string, id: string, netns: string) => ({
    ...process.env,
    CNI_COMMAND: cmd,
    CNI_CONTAINERID: id,
    CNI_NETNS: netns,
    CNI_IFNAME: 'eth0',
    CNI_PATH: '/usr/lib/cni',
  });

  it('sees the files cni-wasm writes, writes files cni-wasm reads, and shares the lock', async () => {
    if (!existsSync(HOST_LOCAL)) throw new Error(`${HOST_LOCAL} missing: install containernetworking-plugins`);
    const node = makeNetns('store');
    const dataDir = join(ROOT, `s${n++}`);
    const s = openStore(join(dataDir, 'net1'));
    // cni-wasm reserves .2 in host-local's format
    expect(s.createExclusive('10.1.2.2', 'ctr-a\r\neth0')).toBe(true);
    s.replace('last_reserved_ip.0', '10.1.2.2');

    // while cni-wasm holds the lock, host-local waits
    const release = s.lock();
    const child = spawn(HOST_LOCAL, [], { env: env('ADD', 'ctr-b', node.path), stdio: ['pipe', 'pipe', 'pipe'] });
    child.stdin.end(conf(dataDir));
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    let exited = false;
    const done = new Promise<number | null>((r) => child.on('exit', (code) => ((exited = true), r(code))));
    await new Promise((r) => setTimeout(r, 400));
    expect(exited).toBe(false);
    release();
    expect(await done).toBe(0);
    const result = JSON.parse(out) as { ips: { address: string }[] };
    expect(result.ips[0]!.address).toBe('10.1.2.3/24'); // skipped cni-wasm's .2

    // cni-wasm reads host-local's files, and both made the same modes
    expect(s.list()).toEqual(['10.1.2.2', '10.1.2.3', 'last_reserved_ip.0']);
    expect(s.read('10.1.2.3')).toBe('ctr-b\r\neth0');
    expect(s.read('last_reserved_ip.0')).toBe('10.1.2.3');
    expect(modeOf(join(s.dir, '10.1.2.3'))).toBe(modeOf(join(s.dir, '10.1.2.2')));
    const hlDir = join(ROOT, `s${n++}`);
    const r = spawnSync(HOST_LOCAL, [], { env: env('ADD', 'ctr-c', node.path), input: conf(hlDir) });
    expect(r.status, r.stderr?.toString()).toBe(0);
    const ours = openStore(join(ROOT, `s${n++}`, 'net1'));
    ours.lock()();
    expect(modeOf(join(hlDir, 'net1'))).toBe(modeOf(ours.dir));
    expect(modeOf(join(hlDir, 'net1', 'lock'))).toBe(modeOf(join(ours.dir, 'lock')));

    // host-local DEL releases the entry cni-wasm wrote
    const del = spawnSync(HOST_LOCAL, [], { env: env('DEL', 'ctr-a', node.path), input: conf(dataDir) });
    expect(del.status, del.stderr?.toString()).toBe(0);
    expect(s.list()).toEqual(['10.1.2.3', 'last_reserved_ip.0']);
    node.remove();
  });
});
