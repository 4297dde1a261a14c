// host/sys/netns on the real kernel: opening namespaces by path, the synchronous
// setns window, and its failure modes. Every namespace is a throwaway one; nothing
// here mutates the root namespace (the global guard checks).
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { build } from 'esbuild';
import { errnoKind, isSysError, SysError } from '../../host/sys/errors.ts';
import { currentNetns, hostNetns, isNetnsError, NetnsError, type NetnsHandle, openNamedNetns, openNetns, resetNetns, withNetns } from '../../host/sys/netns.ts';
import { Script } from 'node:vm';
import { listLinks } from '../../host/sys/netlink/links.ts';
import { NetlinkSocket } from '../../host/sys/netlink/socket.ts';
import { cleanup, makeNetns, type Netns } from '../harness/netns.ts';

const threadNs = (): string => readlinkSync('/proc/thread-self/ns/net');
const nsId = (h: NetnsHandle): string => `net:[${h.ino}]`;

function expectNetnsError(f: () => unknown, errno: string, kind: string): NetnsError {
  let caught: unknown;
  try {
    f();
  } catch (e) {
    caught = e;
  }
  expect(isNetnsError(caught), `expected a NetnsError, got ${String(caught)}`).toBe(true);
  const e = caught as NetnsError;
  expect(e).toBeInstanceOf(SysError);
  expect(e.errno).toBe(errno);
  expect(e.kind).toBe(kind);
  return e;
}

describe('openNetns', () => {
  let a: Netns;
  const opened: NetnsHandle[] = [];
  beforeAll(() => {
    a = makeNetns('nsa');
  });
  afterEach(() => {
    for (const h of opened.splice(0)) h.close();
  });
  afterAll(() => cleanup());

  it('opens a namespace by path and by name, with its identity', () => {
    const h = openNetns(a.path);
    const n = openNamedNetns(a.name);
    opened.push(h, n);
    expect(h.ino).toBe(statSync(a.path).ino);
    expect(h.sameAs(n)).toBe(true);
    expect(h.sameAs(hostNetns())).toBe(false);
    expect(h.isHost).toBe(false);
    expect(h.path).toBe(a.path);
  });

  it('hostNetns is the namespace the process started in, and cannot be closed by a caller', () => {
    const host = hostNetns();
    expect(host.isHost).toBe(true);
    expect(nsId(host)).toBe(readlinkSync('/proc/self/ns/net'));
    host.close();
    expect(host.closed).toBe(false);
    expect(hostNetns()).toBe(host);
  });

  it('a missing path is NetnsError ENOENT, kind not-found', () => {
    const e = expectNetnsError(() => openNetns(`/var/run/netns/cniwt-missing-${randomBytes(4).toString('hex')}`), 'ENOENT', 'not-found');
    expect(e.message).toMatch(/does not exist/);
    expect(errnoKind(e.errno)).toBe('not-found');
  });

  it('a namespace that vanished (ip netns del) is not-found', () => {
    const gone = makeNetns('gone');
    const path = gone.path;
    gone.remove();
    expectNetnsError(() => openNetns(path), 'ENOENT', 'not-found');
  });

  it('a path through a regular file is not-found', () => {
    expectNetnsError(() => openNetns('/etc/hostname/net'), 'ENOENT', 'not-found');
  });

  it('a regular file is NetnsError EINVAL, kind invalid', () => {
    const e = expectNetnsError(() => openNetns('/etc/hostname'), 'EINVAL', 'invalid');
    expect(e.message).toMatch(/not a network namespace/);
  });

  it('an empty file (what an unmounted namespace leaves behind) is invalid, and says so', () => {
    const p = `/tmp/cniwt-empty-${randomBytes(4).toString('hex')}`;
    writeFileSync(p, '');
    try {
      const e = expectNetnsError(() => openNetns(p), 'EINVAL', 'invalid');
      expect(e.message).toMatch(/empty file/);
    } finally {
      rmSync(p);
    }
  });

  it('a directory and a namespace of another type are invalid', () => {
    expectNetnsError(() => openNetns('/tmp'), 'EINVAL', 'invalid');
    const e = expectNetnsError(() => openNetns('/proc/self/ns/mnt'), 'EINVAL', 'invalid');
    expect(e.message).toMatch(/mount namespace/);
  });

  it('a bad namespace name is refused before touching the filesystem', () => {
    expectNetnsError(() => openNamedNetns('../../etc/hostname'), 'EINVAL', 'invalid');
    expectNetnsError(() => openNamedNetns(''), 'EINVAL', 'invalid');
  });

  it('a closed handle cannot be used', () => {
    const h = openNetns(a.path);
    h.close();
    expect(h.closed).toBe(true);
    let caught: unknown;
    try {
      withNetns(h, () => 1);
    } catch (e) {
      caught = e;
    }
    expect(isSysError(caught) && caught.errno).toBe('EBADF');
  });
});

describe('withNetns', () => {
  let a: Netns;
  let b: Netns;
  let ha: NetnsHandle;
  let hb: NetnsHandle;
  beforeAll(() => {
    a = makeNetns('wa');
    b = makeNetns('wb');
    ha = openNetns(a.path);
    hb = openNetns(b.path);
  });
  afterAll(() => {
    ha.close();
    hb.close();
    cleanup();
  });

  it('runs the function inside the namespace and switches back', () => {
    const before = threadNs();
    const inside = withNetns(ha, () => threadNs());
    expect(inside).toBe(nsId(ha));
    expect(threadNs()).toBe(before);
    expect(threadNs()).toBe(nsId(hostNetns()));
  });

  it('nests, and each level switches back to the one outside it', () => {
    const seen = withNetns(ha, () => {
      const outer = threadNs();
      const inner = withNetns(hb, () => [threadNs(), currentNetns().path]);
      return [outer, ...inner, threadNs()];
    });
    expect(seen).toEqual([nsId(ha), nsId(hb), b.path, nsId(ha)]);
    expect(threadNs()).toBe(nsId(hostNetns()));
  });

  it('resetNetns returns the thread home after a time budget stopped code inside a window', () => {
    // V8 does not run `finally` blocks of a terminated script: the window stays open.
    const g = globalThis as Record<string, unknown>;
    g.__cniwtSpin = () => withNetns(ha, () => {
      for (;;) {
        /* spin until the budget stops us */
      }
    });
    try {
      expect(() => new Script('__cniwtSpin()').runInThisContext({ timeout: 50 })).toThrow(/timed out/);
    } finally {
      delete g.__cniwtSpin;
    }
    expect(threadNs()).toBe(nsId(ha)); // still inside: this is what resetNetns repairs
    resetNetns();
    expect(threadNs()).toBe(nsId(hostNetns()));
    expect(currentNetns().path).toBe(hostNetns().path);
    resetNetns(); // nothing open: a no-op
    expect(threadNs()).toBe(nsId(hostNetns()));
  });

  it('entering the namespace the thread is already in is a no-op', () => {
    expect(withNetns(ha, () => withNetns(ha, () => threadNs()))).toBe(nsId(ha));
    expect(withNetns(hostNetns(), () => threadNs())).toBe(nsId(hostNetns()));
  });

  it('switches back when the function throws', () => {
    expect(() =>
      withNetns(ha, () => {
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(threadNs()).toBe(nsId(hostNetns()));
  });

  it('refuses a function that returns a Promise, after switching back', () => {
    // The type says so too: withNetns(ha, async () => 1) does not compile.
    const asyncFn = (async () => 1) as unknown as () => number;
    expect(() => withNetns(ha, asyncFn)).toThrow(TypeError);
    expect(threadNs()).toBe(nsId(hostNetns()));
  });

  it('only the main thread switches; libuv pool threads stay in the host namespace', () => {
    const host = nsId(hostNetns());
    const tasks = (): Map<string, string> => {
      const m = new Map<string, string>();
      for (const t of readdirSync('/proc/self/task')) {
        try {
          m.set(t, readlinkSync(`/proc/self/task/${t}/ns/net`));
        } catch {
          /* thread exited */
        }
      }
      return m;
    };
    const inside = withNetns(ha, () => tasks());
    const main = String(process.pid);
    expect(inside.get(main)).toBe(nsId(ha));
    for (const [tid, ns] of inside) if (tid !== main) expect(ns, `thread ${tid}`).toBe(host);
    for (const [tid, ns] of tasks()) expect(ns, `thread ${tid} after`).toBe(host);
    expect(inside.size).toBeGreaterThan(4); // main + V8 platform + the (warmed) libuv pool
  });

  it('a netlink socket created inside stays bound to that namespace', () => {
    a.run('ip', ['link', 'add', 'marker0', 'type', 'bridge']);
    const sa = withNetns(ha, () => NetlinkSocket.open());
    const sb = NetlinkSocket.open(hb);
    try {
      // Used from the host namespace: the socket still sees namespace a.
      expect(threadNs()).toBe(nsId(hostNetns()));
      expect(listLinks(sa).map((l) => l.name)).toContain('marker0');
      expect(listLinks(sb).map((l) => l.name)).not.toContain('marker0');
    } finally {
      sa.close();
      sb.close();
    }
  });

  it('/proc/sys read and written inside the window is that namespace\'s', () => {
    const key = '/proc/sys/net/ipv4/ip_unprivileged_port_start';
    const hostValue = readFileSync(key, 'utf8');
    const bValue = b.run('cat', [key]).trim();
    const value = String(Number(bValue) === 1000 ? 1001 : 1000);
    withNetns(ha, () => writeFileSync(key, value));
    expect(a.run('cat', [key]).trim()).toBe(value);
    expect(b.run('cat', [key]).trim()).toBe(bValue);
    expect(withNetns(hb, () => readFileSync(key, 'utf8').trim())).toBe(bValue);
    expect(withNetns(ha, () => readFileSync(key, 'utf8').trim())).toBe(value);
    expect(readFileSync(key, 'utf8')).toBe(hostValue);
  });

  it('a handle keeps its namespace usable after `ip netns del` removed the path', () => {
    const c = makeNetns('kept');
    const hc = openNetns(c.path);
    try {
      const s = NetlinkSocket.open(hc);
      c.remove();
      expect(() => openNetns(c.path)).toThrow(NetnsError);
      expect(withNetns(hc, () => threadNs())).toBe(nsId(hc));
      expect(listLinks(s).map((l) => l.name)).toEqual(['lo']);
      s.close();
    } finally {
      hc.close();
    }
  });

  it('switches thousands of times without leaking descriptors', () => {
    const fds = readdirSync('/proc/self/fd').length;
    for (let i = 0; i < 5000; i++) withNetns(ha, () => i);
    expect(readdirSync('/proc/self/fd').length).toBeLessThanOrEqual(fds + 1);
    expect(threadNs()).toBe(nsId(hostNetns()));
  });
});

describe('withNetns when switching back fails', () => {
  let ns: Netns;
  const script = `dist/.sys-netns-abort-${randomBytes(4).toString('hex')}.mjs`;
  beforeAll(async () => {
    ns = makeNetns('abort');
    // A child that closes the host namespace descriptor behind the module's back, so
    // that setns() back to it fails (EBADF): the module must abort, not carry on.
    const src = `
      import { closeSync } from 'node:fs';
      import { hostNetns, openNetns, withNetns } from './host/sys/netns.ts';
      const h = openNetns(process.argv[2]);
      const host = hostNetns();
      withNetns(h, () => { closeSync(host.fd); });
      console.log('carried on in the wrong namespace');
    `;
    await build({
      stdin: { contents: src, resolveDir: process.cwd(), sourcefile: 'abort-child.ts', loader: 'ts' },
      bundle: true,
      platform: 'node',
      format: 'esm',
      outfile: script,
      logLevel: 'silent',
    });
  });
  afterAll(() => {
    rmSync(script, { force: true });
    cleanup();
  });

  it('prints why and aborts the process', () => {
    const r = spawnSync(process.execPath, [script, ns.path], { encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } });
    expect(r.stdout).not.toMatch(/carried on/);
    expect(r.signal).toBe('SIGABRT');
    expect(r.stderr).toMatch(/cannot switch back from network namespace .*aborting/);
  });
});

describe('thread pool warm-up', () => {
  let ns: Netns;
  const script = `dist/.sys-netns-warm-${randomBytes(4).toString('hex')}.cjs`;
  beforeAll(async () => {
    ns = makeNetns('warm');
    // A CommonJS entry: unlike an ESM entry (whose loader reads files through the pool),
    // nothing has started libuv's pool when the first switch happens.
    const src = `
      import { readdirSync, readlinkSync } from 'node:fs';
      import { openNetns, withNetns } from './host/sys/netns.ts';
      const tasks = () => Object.fromEntries(readdirSync('/proc/self/task').map((t) => [t, readlinkSync('/proc/self/task/' + t + '/ns/net')]));
      const before = tasks();
      const h = openNetns(process.argv[2]);
      const inside = withNetns(h, () => tasks());
      process.stdout.write(JSON.stringify({ pid: String(process.pid), host: readlinkSync('/proc/self/ns/net'), target: 'net:[' + h.ino + ']', before, inside, after: tasks() }));
    `;
    await build({
      stdin: { contents: src, resolveDir: process.cwd(), sourcefile: 'warm-child.ts', loader: 'ts' },
      bundle: true,
      platform: 'node',
      format: 'cjs',
      outfile: script,
      define: { 'import.meta.url': '__cniwt_url' },
      banner: { js: 'const __cniwt_url = require("node:url").pathToFileURL(__filename).href;' },
      logLevel: 'silent',
    });
  });
  afterAll(() => {
    rmSync(script, { force: true });
    cleanup();
  });

  it('starts the pool before the first switch, so its threads are born in the host namespace', () => {
    const r = spawnSync(process.execPath, [script, ns.path], { encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } });
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { pid: string; host: string; target: string; before: Record<string, string>; inside: Record<string, string>; after: Record<string, string> };
    const poolSize = Number(process.env.UV_THREADPOOL_SIZE ?? 4);
    // The pool did not exist before, and did during the switch.
    expect(Object.keys(out.inside).length - Object.keys(out.before).length).toBe(poolSize);
    for (const [tid, id] of Object.entries(out.inside)) expect(id, `thread ${tid}`).toBe(tid === out.pid ? out.target : out.host);
    for (const [tid, id] of Object.entries(out.after)) expect(id, `thread ${tid} after`).toBe(out.host);
  });
});
