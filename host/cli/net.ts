// `cni-wasm net add|check|del|gc|status <network> <netns>`: cnitool's command, on the
// libcni side of this project. Same environment as cnitool (NETCONFPATH, CNI_PATH, CNI_ARGS,
// CAP_ARGS, CNI_IFNAME) and the same container ID ("cnitool-" + first 10 bytes of the
// SHA-512 of the absolute netns path, in hex), so cache files and IPAM allocations made by
// one tool are found by the other. ADD prints the result; any failure prints the CNI error
// JSON on stdout and exits 1.
import type { Command } from 'commander';
import { createHash } from 'node:crypto';
import { resolve } from 'node:path';
import { CniError, ErrorCode, toCniError } from '../cni/errors.ts';
import { CURRENT_VERSION } from '../cni/version.ts';
import { CniConfig, defaultCacheDir, loadNetworkConf, printResult, type GCArgs, type NetworkConfigList, type RuntimeConf } from '../cni/libcni/index.ts';
import { isObject } from '../cni/libcni/gojson.ts';

export const NET_OPS = ['add', 'check', 'del', 'gc', 'status'] as const;
export type NetOp = (typeof NET_OPS)[number];

export const DEFAULT_NET_DIR = '/etc/cni/net.d';

export interface NetOptions {
  ifname?: string | undefined;
  cacheDir?: string | undefined;
  /** For gc: JSON array of {containerID, ifname} still in use. Without it every cached attachment of the network goes. */
  validAttachments?: string | undefined;
}

/** cnitool's container ID for a netns path. */
export function containerIdForNetns(absNetns: string): string {
  return `cnitool-${createHash('sha512').update(absNetns).digest().subarray(0, 10).toString('hex')}`;
}

/** CNI_ARGS as cnitool reads it: `K=V;K=V`, every pair with exactly one `=` and both sides non-empty. */
export function parseCniArgs(s: string): [string, string][] {
  if (s === '') return [];
  return s.split(';').map((pair) => {
    const kv = pair.split('=');
    if (kv.length !== 2 || kv[0] === '' || kv[1] === '') throw new CniError(ErrorCode.InvalidEnv, `invalid CNI_ARGS pair ${JSON.stringify(pair)}`);
    return [kv[0]!, kv[1]!];
  });
}

/** CAP_ARGS: a JSON object (or null), keyed by capability name. */
export function parseCapArgs(s: string): Record<string, unknown> | undefined {
  if (s === '') return undefined;
  let v: unknown;
  try {
    v = JSON.parse(s);
  } catch (e) {
    throw new CniError(ErrorCode.DecodeFailure, `invalid CAP_ARGS: ${(e as Error).message}`);
  }
  if (v === null) return undefined;
  if (!isObject(v)) throw new CniError(ErrorCode.DecodeFailure, 'invalid CAP_ARGS: not a JSON object');
  return v;
}

export function parseValidAttachments(s: string): GCArgs {
  let v: unknown;
  try {
    v = JSON.parse(s);
  } catch (e) {
    throw new CniError(ErrorCode.DecodeFailure, `invalid --valid-attachments: ${(e as Error).message}`);
  }
  if (!Array.isArray(v)) throw new CniError(ErrorCode.DecodeFailure, 'invalid --valid-attachments: not a JSON array');
  return {
    validAttachments: v.map((a, i) => {
      if (!isObject(a) || typeof a.containerID !== 'string' || typeof a.ifname !== 'string') {
        throw new CniError(ErrorCode.DecodeFailure, `invalid --valid-attachments entry ${i}: want {"containerID": "...", "ifname": "..."}`);
      }
      return { containerID: a.containerID, ifname: a.ifname };
    }),
  };
}

function isNetOp(s: string): s is NetOp {
  return (NET_OPS as readonly string[]).includes(s);
}

/**
 * Run one net operation. Returns the exit code; writes the ADD result, or the error JSON, to `out`.
 * Everything it reads comes from `env` and the arguments.
 */
export async function runNet(
  op: string,
  network: string,
  netns: string | undefined,
  opts: NetOptions = {},
  env: NodeJS.ProcessEnv = process.env,
  out: NodeJS.WritableStream = process.stdout,
): Promise<number> {
  let list: NetworkConfigList | undefined;
  try {
    if (!isNetOp(op)) throw new CniError(ErrorCode.InvalidEnv, `unknown operation ${JSON.stringify(op)}: want one of ${NET_OPS.join(', ')}`);
    if ((netns === undefined || netns === '') && (op === 'add' || op === 'check' || op === 'del')) {
      throw new CniError(ErrorCode.InvalidEnv, `net ${op} needs the path of a network namespace`);
    }
    list = loadNetworkConf(env.NETCONFPATH || DEFAULT_NET_DIR, network);
    const capabilityArgs = parseCapArgs(env.CAP_ARGS ?? '');
    const args = parseCniArgs(env.CNI_ARGS ?? '');
    const ifName = opts.ifname || env.CNI_IFNAME || 'eth0';
    const absNetns = resolve(netns || '.');
    const rt: RuntimeConf = { containerId: containerIdForNetns(absNetns), netns: absNetns, ifName, args, capabilityArgs };
    const cni = new CniConfig({
      path: (env.CNI_PATH ?? '').split(':').filter((d) => d !== ''),
      cacheDir: opts.cacheDir || defaultCacheDir(env),
    });
    switch (op) {
      case 'add': {
        const result = await cni.addNetworkList(list, rt);
        if (result !== undefined) out.write(`${printResult(result)}\n`);
        break;
      }
      case 'check':
        await cni.checkNetworkList(list, rt);
        break;
      case 'del':
        await cni.delNetworkList(list, rt);
        break;
      case 'gc':
        await cni.gcNetworkList(list, opts.validAttachments !== undefined ? parseValidAttachments(opts.validAttachments) : undefined);
        break;
      case 'status':
        await cni.getStatusNetworkList(list);
        break;
    }
    return 0;
  } catch (e) {
    const err = toCniError(e);
    const version = list && list.cniVersion !== '' ? list.cniVersion : CURRENT_VERSION;
    out.write(`${JSON.stringify(err.toJSON(version), null, 4)}\n`);
    return 1;
  }
}

export function registerNetCommand(program: Command): void {
  program
    .command('net')
    .description('run a network configuration list against a network namespace, as cnitool does (libcni semantics, result cache included)')
    .argument('<op>', `one of ${NET_OPS.join(', ')}`)
    .argument('<network>', 'the network name (the "name" of a config in NETCONFPATH)')
    .argument('[netns]', 'path of the network namespace (required for add, check, del)')
    .option('-i, --ifname <name>', 'interface name in the container (default: env CNI_IFNAME, else eth0)')
    .option('--cache-dir <dir>', 'result cache directory (default: env CNI_CACHE_DIR, else /var/lib/cni)')
    .option('--valid-attachments <json>', 'gc only: JSON array of {"containerID","ifname"} still in use; without it every cached attachment of the network is deleted, as cnitool does')
    .addHelpText(
      'after',
      '\nEnvironment (as cnitool):\n' +
        '  NETCONFPATH    directory of .conflist/.conf/.json files (default /etc/cni/net.d)\n' +
        '  CNI_PATH       plugin directories, ":"-separated\n' +
        '  CNI_ARGS       "K=V;K=V" passed to plugins\n' +
        '  CAP_ARGS       JSON object of capability args (runtimeConfig), e.g. {"portMappings":[...]}\n' +
        '  CNI_IFNAME     interface name (default eth0)\n' +
        '  CNI_CACHE_DIR  result cache directory (default /var/lib/cni)\n' +
        '\nThe container ID is derived from the netns path as cnitool does, so the two tools share cache and IPAM state.\n' +
        '\nExample:\n  ip netns add c1\n  NETCONFPATH=/etc/cni/net.d CNI_PATH=/opt/cni/bin cni-wasm net add mynet /var/run/netns/c1\n',
    )
    .action(async (op: string, network: string, netns: string | undefined, opts: NetOptions) => {
      const code = await runNet(op, network, netns, opts);
      if (code !== 0) process.exitCode = code;
    });
}
