'use strict';
// Build step, run by scripts/build.mjs as `unshare --net node scripts/train-cache.cjs <dist>`:
// this process's fresh network namespace is a scratch "node", a `sleep` in another fresh one is
// the container. Loads dist/runtime.cjs, runs one real bridge + host-local ADD and DEL through
// it (ipMasq on, so nf_tables is exercised too), then writes V8's code cache: functions
// compiled during that run are in the cache, so invocations skip compiling them (measured
// ~18 ms per ADD, ~12 ms per DEL). Both namespaces vanish with their processes.
const { spawn } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

async function main() {
  const dist = path.resolve(process.argv[2] ?? 'dist');
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cni-wasm-train-'));
  const ctr = spawn('unshare', ['--net', 'sleep', '60'], { stdio: 'ignore' });
  try {
    await new Promise((r) => setTimeout(r, 100));
    const netns = `/proc/${ctr.pid}/ns/net`;
    fs.writeFileSync(path.join(tmp, 'policy.json'), '{ "version": 1 }\n');
    process.env.CNI_WASM_POLICY = path.join(tmp, 'policy.json'); // built-in grants only
    process.env.CNI_WASM_PLUGIN_DIR = path.join(dist, 'plugins');
    const load = require(path.join(dist, 'load-cached.cjs'));
    await load.makeCache('runtime.cjs', async (runtime) => {
      const config = {
        cniVersion: '1.1.0',
        name: 'train',
        type: 'bridge',
        bridge: 'cniw-train0',
        isGateway: true,
        ipMasq: true,
        ipam: { type: 'host-local', subnet: '10.99.0.0/24', dataDir: path.join(tmp, 'ipam') },
      };
      const plugin = await runtime.wasmLoader('bridge', path.join(dist, 'plugins', 'bridge.wasm'));
      let added;
      for (const command of ['ADD', 'CHECK', 'DEL']) {
        const env = { command, containerId: 'train', netns, ifname: 'eth0', args: [], ignoreUnknownArgs: false, path: [path.join(dist, 'plugins')] };
        const conf = command === 'CHECK' ? { ...config, prevResult: added } : config;
        const out = await plugin.run({ env, config: conf, configText: JSON.stringify(conf) });
        if (command === 'ADD') added = out;
      }
    });
  } finally {
    ctr.kill('SIGKILL');
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (e) => {
    process.stderr.write(`code cache training skipped: ${e && e.message ? e.message : e}\n`);
    process.exit(1);
  },
);
