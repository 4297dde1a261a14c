// cni-wasm under a real container runtime: podman (4.x) with its CNI backend, cni-wasm installed as
// `bridge` and `host-local` in the first of podman's cni_plugin_dirs (the Go portmap/firewall/tuning
// that podman's generated conflist chains come from /usr/lib/cni). The network config is the one
// `podman network create` writes, unchanged; podman execs the plugins with its own CNI_ARGS
// (IgnoreUnknown=1;K8S_POD_NAMESPACE=...) and runtimeConfig.
//
// Nothing of it touches the machine:
//   - podman and everything it starts (conmon, crun, the plugins) run in a throwaway "node" network
//     namespace and in a private mount namespace held by one process (the "holder", started with
//     `nsenter --net=<node> unshare --mount --propagation private ...`, dies with this process). In it:
//       /var/lib    is bind-mounted from <tmp>/varlib (libcni's result cache /var/lib/cni, host-local's
//                   default dataDir /var/lib/cni/networks, podman's blob cache /var/lib/containers/cache)
//       /run/netns  is bind-mounted from <tmp>/netns (the container namespaces podman makes)
//       /sys/fs/cgroup/unified is unmounted: crun refuses a hybrid cgroup hierarchy; containers
//                   run with cgroups disabled anyway (no cgroup is made on the machine)
//     Every mount dies with the namespace, when its last process exits.
//   - podman's configuration is ours: CONTAINERS_CONF / CONTAINERS_STORAGE_CONF in <tmp> (CNI backend,
//     plugin and config dirs, cgroupfs, file events, vfs storage under <tmp>: no overlay mounts).
//   - The image is built locally (busybox-static + symlinks, `podman import`): no registry.
// Cleanup, also on failure: `podman rm -a -f`, then SIGKILL to every process in the holder's mount
// namespace and their children (the container inits are conmon's children), the node namespace, <tmp>.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, symlinkSync, copyFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type Netns, RUN_ID, cleanup, makeNetns } from '../harness/netns.ts';

const PODMAN = spawnSync('podman', ['--version'], { encoding: 'utf8' }).status === 0;
const BUSYBOX = ['/bin/busybox', '/usr/bin/busybox'].find((p) => existsSync(p));
const CLI = resolve(__dirname, '../../dist/cni-wasm.cjs');
const SUBNET = '10.89.42';
const NET = `cniwt-${RUN_ID}`;
const IMAGE = 'localhost/cniw-bb';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
afterAll(() => cleanup());

interface Link {
  ifname: string;
  ifalias?: string;
  master?: string;
  linkinfo?: { info_kind?: string };
}

/** `n:n` with n = min(want, this process's hard limit). */
function limit(name: string, want: number): string {
  const line = readFileSync('/proc/self/limits', 'utf8').split('\n').find((l) => l.startsWith(name)) ?? '';
  const hard = Number(line.slice(name.length).trim().split(/\s+/)[1]);
  const n = Number.isFinite(hard) ? Math.min(want, hard) : want;
  return `${n}:${n}`;
}

function pidsIn(mntNs: string): number[] {
  const pids: number[] = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      if (readlinkSync(`/proc/${e}/ns/mnt`) === mntNs) pids.push(Number(e));
    } catch {
      /* gone */
    }
  }
  return pids;
}

function childrenOf(parents: Set<number>): number[] {
  const out: number[] = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const stat = readFileSync(`/proc/${e}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (parents.has(ppid)) out.push(Number(e));
    } catch {
      /* gone */
    }
  }
  return out;
}

class PodmanWorld {
  readonly dir = mkdtempSync('/tmp/cniwt-podman-');
  readonly node: Netns = makeNetns('podman-node');
  holder?: ChildProcess;
  mntNs = '';
  readonly env: NodeJS.ProcessEnv;

  constructor() {
    const d = this.dir;
    for (const sub of ['bin', 'net.d', 'storage', 'run', 'tmp', 'varlib/cni', 'varlib/containers', 'netns', 'rootfs/bin']) mkdirSync(join(d, sub), { recursive: true });
    const inst = spawnSync(process.execPath, [CLI, 'install', '--dir', join(d, 'bin'), '--plugins', 'bridge,host-local'], { encoding: 'utf8' });
    if (inst.status !== 0) throw new Error(`cni-wasm install failed: ${inst.stderr}`);
    writeFileSync(
      join(d, 'containers.conf'),
      [
        '[containers]',
        'cgroups = "disabled"',
        'pids_limit = 0',
        // podman's defaults (nofile=1048576, nproc from the runtime) can be above this machine's hard
        // limits, and crun may not raise them
        `default_ulimits = ["nofile=${limit('Max open files', 1024)}", "nproc=${limit('Max processes', 4096)}"]`,
        '[engine]',
        'cgroup_manager = "cgroupfs"',
        'events_logger = "file"',
        `events_logfile_path = "${d}/events.log"`,
        `tmp_dir = "${d}/run/libpod"`,
        `image_copy_tmp_dir = "${d}/tmp"`,
        '[network]',
        'network_backend = "cni"',
        `cni_plugin_dirs = ["${d}/bin", "/usr/lib/cni"]`,
        `network_config_dir = "${d}/net.d"`,
        '',
      ].join('\n'),
    );
    writeFileSync(join(d, 'storage.conf'), `[storage]\ndriver = "vfs"\ngraphroot = "${d}/storage"\nrunroot = "${d}/run"\n`);
    this.env = {
      PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin',
      CONTAINERS_CONF: join(d, 'containers.conf'),
      CONTAINERS_STORAGE_CONF: join(d, 'storage.conf'),
      TMPDIR: join(d, 'tmp'),
    };
  }

  async start(): Promise<void> {
    const d = this.dir;
    const script = [
      'set -e',
      'if mountpoint -q /sys/fs/cgroup/unified; then umount /sys/fs/cgroup/unified; fi',
      `mount --bind ${d}/varlib /var/lib`,
      `mount --bind ${d}/netns /run/netns`,
      `touch ${d}/ready`,
      'exec sleep 600',
    ].join('\n');
    // nsenter and unshare (no --fork) exec: the holder's pid is the sleep's.
    this.holder = spawn('nsenter', [`--net=${this.node.path}`, 'unshare', '--mount', '--propagation', 'private', 'setpriv', '--pdeathsig', 'KILL', 'sh', '-c', script], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let err = '';
    this.holder.stderr!.on('data', (b: Buffer) => (err += b.toString()));
    const deadline = Date.now() + 10_000;
    while (!existsSync(join(d, 'ready'))) {
      if (this.holder.exitCode !== null || Date.now() > deadline) throw new Error(`namespace holder did not start: ${err}`);
      await sleep(20);
    }
    this.mntNs = readlinkSync(`/proc/${this.holder.pid}/ns/mnt`);
  }

  /** podman inside the node network namespace and the private mount namespace. */
  podman(args: string[], opts: { input?: Buffer; timeoutMs?: number } = {}): { status: number | null; out: string; err: string } {
    const r = spawnSync('nsenter', ['-t', String(this.holder!.pid), '-m', '-n', 'podman', ...args], {
      env: this.env,
      input: opts.input,
      timeout: opts.timeoutMs ?? 30_000,
      maxBuffer: 16 << 20,
    });
    return { status: r.status, out: r.stdout?.toString() ?? '', err: `${r.stderr?.toString() ?? ''}${r.error ? String(r.error) : ''}` };
  }

  ok(args: string[], opts: { input?: Buffer } = {}): string {
    const r = this.podman(args, opts);
    if (r.status !== 0) throw new Error(`podman ${args.join(' ')} failed (${r.status}):\n${r.out}${r.err}`);
    return r.out.trim();
  }

  buildImage(): void {
    const rootfs = join(this.dir, 'rootfs');
    copyFileSync(BUSYBOX!, join(rootfs, 'bin/busybox'));
    for (const a of ['sh', 'ping', 'ip', 'sleep']) symlinkSync('busybox', join(rootfs, 'bin', a));
    const tar = spawnSync('tar', ['-C', rootfs, '-c', '.'], { maxBuffer: 64 << 20 });
    if (tar.status !== 0) throw new Error(`tar failed: ${tar.stderr.toString()}`);
    this.ok(['import', '-', IMAGE], { input: tar.stdout });
  }

  links(): Link[] {
    return this.node.ipJson<Link[]>('-d', 'link', 'show');
  }

  async dispose(): Promise<void> {
    if (this.holder?.pid !== undefined && this.holder.exitCode === null) {
      this.podman(['rm', '--all', '--force', '--time', '0']);
      // Whatever is left (conmon, a container init, a stuck podman) dies with the namespace.
      for (let i = 0; i < 50; i++) {
        const ours = new Set(pidsIn(this.mntNs));
        for (const c of childrenOf(ours)) ours.add(c);
        if (ours.size === 0) break;
        for (const p of ours) {
          try {
            process.kill(p, 'SIGKILL');
          } catch {
            /* gone */
          }
        }
        await sleep(50);
      }
    }
    this.node.remove();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

describe.skipIf(!PODMAN || !BUSYBOX)(
  `podman (CNI backend) runs containers on a cni-wasm bridge network${PODMAN ? '' : ' [skipped: podman is not installed (apt-get install podman; .ci/run installs it)]'}${BUSYBOX ? '' : ' [skipped: busybox-static is not installed]'}`,
  () => {
    it('podman network create + two containers: addresses from the subnet, they ping each other; rm and network rm leave nothing', async () => {
      const w = new PodmanWorld();
      try {
        await w.start();
        w.buildImage();

        // The conflist podman writes for the CNI backend: bridge + host-local, then portmap, firewall, tuning.
        w.ok(['network', 'create', '--subnet', `${SUBNET}.0/24`, NET]);
        const conflist = JSON.parse(readFileSync(join(w.dir, 'net.d', `${NET}.conflist`), 'utf8')) as {
          plugins: { type: string; bridge?: string; ipam?: { type: string } }[];
        };
        expect(conflist.plugins.map((p) => p.type)).toEqual(['bridge', 'portmap', 'firewall', 'tuning']);
        expect(conflist.plugins[0]!.ipam?.type).toBe('host-local');
        const br = conflist.plugins[0]!.bridge!;

        const ids: string[] = [];
        const ips: string[] = [];
        for (const name of ['c1', 'c2']) {
          ids.push(w.ok(['run', '-d', '--name', name, '--network', NET, IMAGE, 'sleep', '60']));
          ips.push(w.ok(['inspect', name, '--format', `{{(index .NetworkSettings.Networks "${NET}").IPAddress}}`]));
        }
        for (const ip of ips) expect(ip).toMatch(new RegExp(`^${SUBNET.replace(/\./g, '\\.')}\\.(\\d+)$`));
        expect(ips[0]).not.toBe(ips[1]);
        expect(w.ok(['exec', 'c1', 'ip', '-o', '-4', 'addr', 'show', 'eth0'])).toContain(`${ips[0]}/24`);

        // cni-wasm made them: its marks on the bridge and on each container's host veth.
        const links = w.links();
        const bridge = links.find((l) => l.ifname === br);
        expect(bridge?.ifalias).toBe(`cni-wasm plugin=bridge net=${NET}`);
        const veths = links.filter((l) => l.linkinfo?.info_kind === 'veth');
        expect(veths).toHaveLength(2);
        for (const id of ids) {
          const v = veths.find((l) => l.ifalias === `cni-wasm plugin=bridge net=${NET} ctr=${id} if=eth0`);
          expect(v, `host veth of ${id}: ${JSON.stringify(veths)}`).toBeDefined();
          expect(v!.master).toBe(br);
        }
        // host-local's allocations (default dataDir, inside our /var/lib) and libcni's result cache.
        const ipamDir = join(w.dir, 'varlib/cni/networks', NET);
        for (const [i, ip] of ips.entries()) expect(readFileSync(join(ipamDir, ip!), 'utf8')).toContain(ids[i]);
        const cacheDir = join(w.dir, 'varlib/cni/results');
        expect(readdirSync(cacheDir).sort()).toEqual(ids.map((id) => `${NET}-${id}-eth0`).sort());

        // Traffic between the containers, and to the gateway on the bridge.
        for (const [from, to] of [['c1', ips[1]!], ['c2', ips[0]!], ['c1', `${SUBNET}.1`]] as const) {
          const r = w.podman(['exec', from, 'ping', '-c', '1', '-W', '2', to]);
          expect(r.status, `${from} -> ${to}: ${r.out}${r.err}`).toBe(0);
        }

        // Stop and remove: podman runs DEL; no veth, allocation or cache entry is left.
        w.ok(['stop', '--time', '0', 'c1', 'c2']);
        w.ok(['rm', 'c1', 'c2']);
        expect(w.links().filter((l) => l.linkinfo?.info_kind === 'veth')).toEqual([]);
        expect(readdirSync(ipamDir).filter((f) => /^\d+\.\d+\.\d+\.\d+$/.test(f))).toEqual([]);
        expect(readdirSync(cacheDir)).toEqual([]);
        expect(readdirSync(join(w.dir, 'netns'))).toEqual([]);

        // network rm: podman deletes the conflist and the bridge.
        w.ok(['network', 'rm', NET]);
        expect(existsSync(join(w.dir, 'net.d', `${NET}.conflist`))).toBe(false);
        expect(w.links().map((l) => l.ifname)).toEqual(['lo']);
      } finally {
        await w.dispose();
      }
    }, 90_000);
  },
);
