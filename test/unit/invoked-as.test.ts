import { describe, expect, it } from 'vitest';
import { invokedAs } from '../../host/cli/invoked-as.ts';

describe('invokedAs', () => {
  it('takes the launcher argument and hides it from the CLI', () => {
    expect(invokedAs(['node', '/x/cni-wasm.cjs', '--cni-wasm-plugin=host-local', '--help'])).toEqual({
      name: 'host-local',
      argv: ['node', '/x/cni-wasm.cjs', '--help'],
    });
  });
  it('takes a symlink name from argv[1]', () => {
    expect(invokedAs(['node', '/opt/cni/bin/bridge']).name).toBe('bridge');
  });
  it('is cni-wasm itself when run as the bundle or as cni-wasm', () => {
    expect(invokedAs(['node', '/x/dist/cni-wasm.cjs', 'net', 'add']).name).toBeUndefined();
    expect(invokedAs(['node', '/usr/bin/cni-wasm']).name).toBeUndefined();
    expect(invokedAs(['node', '/x/cni-wasm.cjs', '--cni-wasm-plugin=']).name).toBeUndefined();
  });
});
