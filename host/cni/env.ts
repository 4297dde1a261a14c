// The plugin's environment, read and validated by the rules of the reference `skel`
// package: which variables each command needs, and what makes a value malformed.
import { CniError, ErrorCode } from './errors.ts';

export const COMMANDS = ['ADD', 'DEL', 'CHECK', 'STATUS', 'GC', 'VERSION'] as const;
export type Command = (typeof COMMANDS)[number];

export interface PluginEnv {
  command: Command;
  containerId: string;
  netns: string;
  ifname: string;
  /** CNI_ARGS as ordered pairs. */
  args: [string, string][];
  /** True when CNI_ARGS holds IgnoreUnknown=1|true: plugins then ignore keys they do not know. */
  ignoreUnknownArgs: boolean;
  /** CNI_PATH split on ':' with empty entries removed. */
  path: string[];
}

type Env = Record<string, string | undefined>;

const REQUIRED: Record<string, readonly Command[]> = {
  CNI_CONTAINERID: ['ADD', 'CHECK', 'DEL'],
  CNI_NETNS: ['ADD', 'CHECK'],
  CNI_IFNAME: ['ADD', 'CHECK', 'DEL'],
  // The 1.1 spec gives GC and STATUS CNI_PATH too: they may delegate to IPAM.
  CNI_PATH: ['ADD', 'CHECK', 'DEL', 'GC', 'STATUS'],
};

const CONTAINER_ID_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

export function isCommand(s: string): s is Command {
  return (COMMANDS as readonly string[]).includes(s);
}

/** Read and validate the environment. Every failure is code 4, except an empty container id (3). */
export function readPluginEnv(env: Env): PluginEnv {
  const command = env.CNI_COMMAND ?? '';
  const missing: string[] = [];
  if (command === '') missing.push('CNI_COMMAND');
  for (const [name, cmds] of Object.entries(REQUIRED)) {
    if ((env[name] ?? '') === '' && cmds.includes(command as Command)) missing.push(name);
  }
  if (missing.length) {
    throw new CniError(ErrorCode.InvalidEnv, `required env variables [${missing.join(',')}] missing`);
  }
  if (!isCommand(command)) {
    throw new CniError(ErrorCode.InvalidEnv, `unknown CNI_COMMAND: ${command}`, `supported commands: ${COMMANDS.join(', ')}`);
  }
  const containerId = env.CNI_CONTAINERID ?? '';
  const ifname = env.CNI_IFNAME ?? '';
  if (command === 'ADD' || command === 'CHECK' || command === 'DEL') {
    validateContainerId(containerId);
    validateInterfaceName(ifname);
  }
  const { args, ignoreUnknown } = parseCniArgs(env.CNI_ARGS ?? '');
  return {
    command,
    containerId,
    netns: env.CNI_NETNS ?? '',
    ifname,
    args,
    ignoreUnknownArgs: ignoreUnknown,
    path: (env.CNI_PATH ?? '').split(':').filter((p) => p !== ''),
  };
}

export function validateContainerId(id: string): void {
  if (id === '') throw new CniError(ErrorCode.UnknownContainer, 'missing containerID');
  if (!CONTAINER_ID_RE.test(id)) {
    throw new CniError(ErrorCode.InvalidEnv, 'invalid characters in containerID', id);
  }
}

/** Linux interface names: 1..15 bytes, not "." or "..", no '/', ':' or white space. */
export function validateInterfaceName(name: string): void {
  if (name === '') throw new CniError(ErrorCode.InvalidEnv, 'interface name is empty');
  if (Buffer.byteLength(name) > 15) throw new CniError(ErrorCode.InvalidEnv, 'interface name is too long', 'interface name should be less than 16 characters');
  if (name === '.' || name === '..') throw new CniError(ErrorCode.InvalidEnv, 'interface name is . or ..');
  if (/[/:\s]/.test(name)) {
    throw new CniError(ErrorCode.InvalidEnv, 'interface name contains / or : or whitespace characters', name);
  }
}

/** CNI_ARGS: "K=V;K=V". A pair without '=' or with an empty key is malformed (code 4). */
export function parseCniArgs(raw: string): { args: [string, string][]; ignoreUnknown: boolean } {
  const args: [string, string][] = [];
  let ignoreUnknown = false;
  if (raw === '') return { args, ignoreUnknown };
  for (const pair of raw.split(';')) {
    if (pair === '') continue; // tolerate a trailing ';' as libcni's own output never has one but shells do
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new CniError(ErrorCode.InvalidEnv, `ARGS: invalid pair "${pair}"`, 'CNI_ARGS must be K=V pairs separated by ";"');
    const k = pair.slice(0, eq);
    const v = pair.slice(eq + 1);
    if (k === 'IgnoreUnknown') {
      const lv = v.toLowerCase();
      if (lv !== '1' && lv !== 'true' && lv !== '0' && lv !== 'false') {
        throw new CniError(ErrorCode.InvalidEnv, `ARGS: IgnoreUnknown must be a boolean, got "${v}"`);
      }
      ignoreUnknown = lv === '1' || lv === 'true';
    }
    args.push([k, v]);
  }
  return { args, ignoreUnknown };
}
