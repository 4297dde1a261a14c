'use strict';
// Load a sibling CommonJS bundle with V8's code cache (<bundle>.cache, written at build time
// by scripts/build.mjs). Compiling the 380 KB runtime bundle costs ~12 ms of a ~29 ms load;
// with the cache it loads in ~17 ms. A cache V8 rejects (another Node version, changed
// bundle) is ignored and the bundle compiles as usual.
const fs = require('fs');
const path = require('path');
const vm = require('vm');
const Module = require('module');

function compile(file) {
  const source = fs.readFileSync(file, 'utf8');
  let cachedData;
  try {
    cachedData = fs.readFileSync(`${file}.cache`);
  } catch {
    cachedData = undefined;
  }
  return new vm.Script(Module.wrap(source), { filename: file, cachedData });
}

function run(script, file) {
  const m = new Module(file, module);
  m.filename = file;
  m.paths = Module._nodeModulePaths(path.dirname(file));
  script.runInThisContext().call(m.exports, m.exports, Module.createRequire(file), m, file, path.dirname(file));
  m.loaded = true;
  return m.exports;
}

const loaded = new Map();
function load(name) {
  const file = path.join(__dirname, name);
  if (!loaded.has(file)) loaded.set(file, run(compile(file), file));
  return loaded.get(file);
}

/**
 * Build step: load the bundle, optionally exercise it (`train(exports)`, so that functions it
 * compiles on a real call are cached too), and write the cache.
 */
load.makeCache = async function makeCache(name, train) {
  const file = path.join(__dirname, name);
  const script = new vm.Script(Module.wrap(fs.readFileSync(file, 'utf8')), { filename: file });
  const exports = run(script, file);
  loaded.set(file, exports);
  if (train) await train(exports);
  fs.writeFileSync(`${file}.cache`, script.createCachedData());
};

module.exports = load;
