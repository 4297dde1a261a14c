// The built binary, exec'd as a runtime execs a plugin: every error path of the
// protocol answers with a spec error on stdout and a non-zero exit, never a stack trace.
import { mkdtempSync, readFileSync, rmSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { runBinary } from './run-binary.ts';

const tmp = mkdtempSync(join(tmpdir(), 'cniw-proto-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const ALL = ['0.1.0', '0.2.0', '0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0'];
const env = {
  CNI_COMMAND: 'ADD',
  CNI_CONTAINERID: 'ctr1',
  CNI_NETNS: '/var/run/netns/none',
  CNI_IFNAME: 'eth0',
  CNI_PATH: tmp,
  CNI_WASM_PLUGIN_DIR: join(tmp, 'plugins'),
};
const conf = (o: Record<string, unknown> = {}) => JSON.stringify({ cniVersion: '1.0.0', name: 'net1', type: 'nosuchplugin', ...o });

function expectError(r: ReturnType<typeof runBinary>, code: number, msg?: RegExp): void {
  expect(r.status, r.stdout + r.stderr).toBe(1);
  expect(r.json, `stdout was: ${r.stdout}`).toBeDefined();
  expect(r.json!.code).toBe(code);
  expect(typeof r.json!.msg).toBe('string');
  expect(typeof r.json!.cniVersion).toBe('string');
  if (msg) expect(`${r.json!.msg} ${r.json!.details ?? ''}`).toMatch(msg);
  expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace anywhere
  expect(r.stdout).not.toMatch(/\n\s+at /);
}

describe('VERSION', () => {
  it('lists all seven versions, with or without stdin', () => {
    for (const stdin of ['{"cniVersion":"1.1.0"}', '', 'garbage']) {
      const r = runBinary({ CNI_COMMAND: 'VERSION' }, stdin);
      expect(r.status).toBe(0);
      expect(r.json).toEqual({ cniVersion: '1.1.0', supportedVersions: ALL });
      expect(r.stderr).toBe('');
    }
  });
});

describe('error paths', () => {
  it('missing variables: code 4, all named', () => {
    const r = runBinary({ CNI_COMMAND: 'ADD', CNI_PATH: tmp }, conf());
    expectError(r, 4, /CNI_CONTAINERID,CNI_NETNS,CNI_IFNAME/);
  });
  it('unknown command: code 4', () => expectError(runBinary({ ...env, CNI_COMMAND: 'REMOVE' }, conf()), 4, /REMOVE/));
  it('empty command: code 4', () => expectError(runBinary({ ...env, CNI_COMMAND: '' }, conf()), 4, /CNI_COMMAND/));
  it('bad container id: code 4', () => expectError(runBinary({ ...env, CNI_CONTAINERID: 'a;b' }, conf()), 4, /containerID/));
  it('bad interface name: code 4', () => expectError(runBinary({ ...env, CNI_IFNAME: 'this-is-way-too-long' }, conf()), 4, /too long/));
  it('malformed CNI_ARGS: code 4', () => expectError(runBinary({ ...env, CNI_ARGS: 'IP=1.2.3.4;oops' }, conf()), 4, /oops/));
  it('undecodable config: code 6', () => expectError(runBinary(env, '{"name": '), 6));
  it('empty stdin: code 6', () => expectError(runBinary(env, ''), 6));
  it('config without name: code 7', () => expectError(runBinary(env, JSON.stringify({ cniVersion: '1.0.0', type: 'x' })), 7, /name/));
  it('bad network name: code 7', () => expectError(runBinary(env, conf({ name: 'a/b' })), 7, /network name/));
  it('config without type: code 7', () => expectError(runBinary(env, JSON.stringify({ cniVersion: '1.0.0', name: 'n' })), 7, /type/));
  it('bad field type: code 7', () => expectError(runBinary(env, conf({ ipam: ['x'] })), 7, /ipam/));
  it('unsupported version: code 1 and the error says what is supported', () => {
    const r = runBinary(env, conf({ cniVersion: '0.9.0' }));
    expectError(r, 1, /0\.9\.0.*1\.1\.0/);
  });
  it('CHECK below 0.4.0: code 1', () => expectError(runBinary({ ...env, CNI_COMMAND: 'CHECK' }, conf({ cniVersion: '0.3.1' })), 1, /CHECK/));
  it('GC and STATUS below 1.1.0: code 1', () => {
    expectError(runBinary({ CNI_COMMAND: 'GC', CNI_PATH: tmp }, conf({ cniVersion: '1.0.0' })), 1, /GC/);
    expectError(runBinary({ CNI_COMMAND: 'STATUS', CNI_PATH: tmp }, conf({ cniVersion: '1.0.0' })), 1, /STATUS/);
  });
  it('malformed prevResult: code 7', () => {
    expectError(runBinary({ ...env, CNI_COMMAND: 'CHECK' }, conf({ prevResult: { ips: 'nope' } })), 7, /prevResult/);
  });
  it('unknown type: says which directories it searched', () => {
    const dir2 = join(tmp, 'second');
    const r = runBinary({ ...env, CNI_PATH: `${tmp}:${dir2}` }, conf());
    expectError(r, 7, /nosuchplugin/);
    expect(String(r.json!.details)).toContain(join(tmp, 'plugins'));
    expect(String(r.json!.details)).toContain(dir2);
  });
  it('a request larger than a plugin is handed is refused with code 7 before the plugin runs', () => {
    const plugins = fileURLToPath(new URL('../../dist/plugins', import.meta.url));
    const r = runBinary({ ...env, CNI_WASM_PLUGIN_DIR: plugins }, conf({ type: 'null', pad: 'a'.repeat(2 * 1024 * 1024) }));
    expectError(r, 7, /maxRequestBytes/);
    // Just under the limit the (null) plugin answers.
    expect(runBinary({ ...env, CNI_WASM_PLUGIN_DIR: plugins }, conf({ type: 'null', pad: 'a'.repeat(1000) })).status).toBe(0);
  });
  it('errors carry the config version when it is supported', () => {
    expect(runBinary(env, conf({ cniVersion: '0.4.0' })).json!.cniVersion).toBe('0.4.0');
    expect(runBinary(env, conf({ cniVersion: '7.7.7' })).json!.cniVersion).toBe('1.1.0');
  });
});

describe('logging', () => {
  it('writes one line per invocation to CNI_LOG_FILE at info, nothing on stdout', () => {
    const file = join(tmp, 'logs', 'cni.log');
    mkdirSync(join(tmp, 'logs'), { recursive: true });
    writeFileSync(file, '');
    const r = runBinary({ ...env, CNI_LOG_LEVEL: 'info', CNI_LOG_FILE: file }, conf());
    expect(r.status).toBe(1);
    const lines = readFileSync(file, 'utf8').trim().split('\n');
    expect(lines).toHaveLength(1);
    const line = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(line).toMatchObject({ command: 'ADD', containerId: 'ctr1', network: 'net1', type: 'nosuchplugin', outcome: 'error', code: 7 });
    expect(typeof line.durationMs).toBe('number');
    expect(r.json!.code).toBe(7); // stdout still holds exactly the error
  });
  it('default level: a failure is a warning on stderr; a success prints nothing', () => {
    const r = runBinary(env, conf());
    expect(JSON.parse(r.stderr.trim().split('\n')[0]!)).toMatchObject({ level: 40, outcome: 'error' });
    expect(runBinary({ CNI_COMMAND: 'VERSION' }).stderr).toBe('');
  });
  it('silent writes nothing', () => {
    expect(runBinary({ ...env, CNI_LOG_LEVEL: 'silent' }, conf()).stderr).toBe('');
  });
});
