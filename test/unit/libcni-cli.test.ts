// `cni-wasm net`: cnitool's environment and output, over the recording fake plugin.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, existsSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Writable } from 'node:stream';
import { Command } from 'commander';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { containerIdForNetns, parseCapArgs, parseCniArgs, registerNetCommand, runNet } from '../../host/cli/net.ts';

const FAKE = resolve('test/fixtures/libcni/fake-plugin.mjs');
let dir: string;
let env: NodeJS.ProcessEnv;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'libcni-cli-'));
  mkdirSync(join(dir, 'bin'));
  mkdirSync(join(dir, 'net.d'));
  for (const n of ['fakea', 'fakeb']) symlinkSync(FAKE, join(dir, 'bin', n));
  process.env.FAKE_LOG = join(dir, 'calls.jsonl');
  env = { NETCONFPATH: join(dir, 'net.d'), CNI_PATH: join(dir, 'bin'), CNI_CACHE_DIR: join(dir, 'cache') };
});
afterEach(() => {
  delete process.env.FAKE_LOG;
  rmSync(dir, { recursive: true, force: true });
});

function conflist(version: string, plugins: Record<string, unknown>[]): void {
  writeFileSync(join(dir, 'net.d', '10-n.conflist'), JSON.stringify({ cniVersion: version, name: 'n', plugins }));
}

async function run(op: string, netns: string | undefined, opts = {}, e: NodeJS.ProcessEnv = env): Promise<{ code: number; out: string }> {
  let out = '';
  const sink = new Writable({
    write(c: Buffer, _e, cb) {
      out += c.toString();
      cb();
    },
  });
  const code = await runNet(op, 'n', netns, opts, e, sink);
  return { code, out };
}

function calls(): { env: Record<string, string>; conf: Record<string, unknown> }[] {
  const f = join(dir, 'calls.jsonl');
  return existsSync(f) ? readFileSync(f, 'utf8').trim().split('\n').map((l) => JSON.parse(l)) : [];
}

describe('cnitool conventions', () => {
  it('derives the container id from the absolute netns path as cnitool does', () => {
    const path = '/var/run/netns/ctr1';
    const hex = execFileSync('sh', ['-c', `printf %s '${path}' | sha512sum`], { encoding: 'utf8' }).slice(0, 20);
    expect(containerIdForNetns(path)).toBe(`cnitool-${hex}`);
  });

  it('parses CNI_ARGS strictly and CAP_ARGS as a JSON object', () => {
    expect(parseCniArgs('')).toEqual([]);
    expect(parseCniArgs('A=1;B=x')).toEqual([
      ['A', '1'],
      ['B', 'x'],
    ]);
    for (const bad of ['A=1;', 'A', '=1', 'A=', 'A=1=2']) expect(() => parseCniArgs(bad)).toThrow(/invalid CNI_ARGS pair/);
    expect(parseCapArgs('')).toBeUndefined();
    expect(parseCapArgs('null')).toBeUndefined();
    expect(parseCapArgs('{"a":[1]}')).toEqual({ a: [1] });
    expect(() => parseCapArgs('[1]')).toThrow(/not a JSON object/);
    expect(() => parseCapArgs('{')).toThrow(/invalid CAP_ARGS/);
  });
});

describe('runNet', () => {
  it('add prints the result as Go indents it and passes the environment on', async () => {
    conflist('1.0.0', [{ type: 'fakea', capabilities: { portMappings: true } }]);
    const r = await run('add', 'relative/ns', {}, { ...env, CNI_ARGS: 'K=V', CAP_ARGS: '{"portMappings":[]}', CNI_IFNAME: 'net9' });
    expect(r.code).toBe(0);
    expect(r.out).toBe(
      '{\n    "cniVersion": "1.0.0",\n    "interfaces": [\n        {\n            "name": "fakea"\n        }\n    ],\n    "ips": [\n        {\n            "interface": 0,\n            "address": "10.99.0.2/24",\n            "gateway": "10.99.0.1"\n        }\n    ]\n}\n',
    );
    const abs = resolve('relative/ns');
    expect(calls()[0]!.env).toMatchObject({ CNI_COMMAND: 'ADD', CNI_NETNS: abs, CNI_IFNAME: 'net9', CNI_ARGS: 'K=V', CNI_CONTAINERID: containerIdForNetns(abs) });
    expect(calls()[0]!.conf.runtimeConfig).toEqual({ portMappings: [] });
    expect(existsSync(join(dir, 'cache', 'results', `n-${containerIdForNetns(abs)}-net9`))).toBe(true);
  });

  it('--ifname wins over CNI_IFNAME, which wins over eth0', async () => {
    conflist('1.0.0', [{ type: 'fakea' }]);
    await run('add', '/x', { ifname: 'if1' }, { ...env, CNI_IFNAME: 'if2' });
    await run('add', '/x', {}, { ...env, CNI_IFNAME: 'if2' });
    await run('add', '/x', {});
    expect(calls().map((c) => c.env.CNI_IFNAME)).toEqual(['if1', 'if2', 'eth0']);
  });

  it('--cache-dir wins over CNI_CACHE_DIR', async () => {
    conflist('1.0.0', [{ type: 'fakea' }]);
    await run('add', '/x', { cacheDir: join(dir, 'other') });
    expect(existsSync(join(dir, 'other', 'results', `n-${containerIdForNetns('/x')}-eth0`))).toBe(true);
    expect(existsSync(join(dir, 'cache'))).toBe(false);
  });

  it('prints the CNI error JSON and returns 1 on failure', async () => {
    conflist('1.0.0', [{ type: 'fakea', fake: { fail: { code: 11, msg: 'later', details: 'd' } } }]);
    const r = await run('add', '/x');
    expect(r.code).toBe(1);
    expect(JSON.parse(r.out)).toEqual({ cniVersion: '1.0.0', code: 11, msg: 'plugin type="fakea" failed (add): later', details: 'd' });
    expect(JSON.parse((await run('bogus', '/x')).out).msg).toContain('unknown operation "bogus"');
    expect(JSON.parse((await run('add', undefined)).out)).toMatchObject({ cniVersion: '1.1.0', code: 4 });
    expect(JSON.parse((await run('add', '/x', {}, { ...env, CNI_ARGS: 'x' })).out)).toMatchObject({ code: 4, msg: 'invalid CNI_ARGS pair "x"' });
  });

  it('gc at 1.1.0 passes --valid-attachments on; status asks each plugin; neither needs a netns', async () => {
    conflist('1.1.0', [{ type: 'fakea' }, { type: 'fakeb' }]);
    await run('add', '/a');
    await run('add', '/b');
    const keep = containerIdForNetns('/a');
    const before = calls().length;
    expect((await run('gc', undefined, { validAttachments: JSON.stringify([{ containerID: keep, ifname: 'eth0' }]) })).code).toBe(0);
    const gc = calls().slice(before);
    expect(gc.map((c) => `${c.env.CNI_COMMAND} ${c.env.CNI_CONTAINERID}`)).toEqual([
      `DEL ${containerIdForNetns('/b')}`,
      `DEL ${containerIdForNetns('/b')}`,
      'GC ',
      'GC ',
    ]);
    expect(gc[2]!.conf['cni.dev/valid-attachments']).toEqual([{ containerID: keep, ifname: 'eth0' }]);
    expect((await run('status', undefined)).code).toBe(0);
    expect(calls().slice(-2).map((c) => c.env.CNI_COMMAND)).toEqual(['STATUS', 'STATUS']);
    const bad = await run('gc', undefined, { validAttachments: '[{"containerID":1}]' });
    expect(bad.code).toBe(1);
    expect(JSON.parse(bad.out).msg).toContain('invalid --valid-attachments entry 0');
  });

  it('is wired into a commander program as "net <op> <network> [netns]"', async () => {
    conflist('1.0.0', [{ type: 'fakea', fake: { fail: { code: 7, msg: 'no' } } }]);
    const program = new Command();
    program.exitOverride();
    registerNetCommand(program);
    const saved = { ...process.env };
    const write = process.stdout.write.bind(process.stdout);
    let out = '';
    process.stdout.write = ((c: string) => {
      out += c;
      return true;
    }) as typeof process.stdout.write;
    try {
      Object.assign(process.env, env);
      await program.parseAsync(['node', 'cni-wasm', 'net', 'add', 'n', '/x', '-i', 'eth7']);
    } finally {
      process.stdout.write = write;
      for (const k of Object.keys(env)) if (!(k in saved)) delete process.env[k];
    }
    expect(JSON.parse(out)).toMatchObject({ code: 7, msg: 'plugin type="fakea" failed (add): no' });
    expect(process.exitCode).toBe(1);
    process.exitCode = 0;
    expect(calls()[0]!.env.CNI_IFNAME).toBe('eth7');
  });
});
