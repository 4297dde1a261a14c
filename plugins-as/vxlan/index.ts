// The vxlan plugin: a routed multi-node overlay on the model of flannel's vxlan backend.
// Every node has its own pod subnet (its IPAM range) and one vxlan device per network; the
// containers of a node hang on a bridge that is their gateway, and every other node's subnet
// is routed through the vxlan device to that node's VTEP (or, with directRouting, straight
// over the underlay to a peer on the same subnet). The container plumbing comes from
// ../sdk/net, shared with the bridge plugin. See docs/vxlan.md.
import { CniError, Invocation, Result, Unit, registerHandler } from "../sdk";
import { ConfiguredHandler, Parsed } from "../sdk/net";
import { VxlanConf, loadConf } from "./conf";
import { cmdAdd } from "./add";
import { cmdDel } from "./del";
import { cmdCheck } from "./check";

export * from "../sdk/generated/exports";

// The request and configuration prelude of every command is ConfiguredHandler's (../sdk/net).
class VxlanPlugin extends ConfiguredHandler<VxlanConf> {
  // STATUS and GC load the configuration too (an invalid one fails them), then ask IPAM (the
  // base's default; loadConf requires ipam.type): the node's entries are kept while the network
  // is used, so only IPAM has state to report or collect.
  constructor() {
    super(true);
  }

  loadConf(inv: Invocation): Parsed<VxlanConf> {
    return loadConf(inv);
  }

  onAdd(inv: Invocation, conf: VxlanConf): Result<string, CniError> {
    return cmdAdd(inv, conf);
  }

  onDel(inv: Invocation, conf: VxlanConf): Result<Unit, CniError> {
    return cmdDel(inv, conf);
  }

  onCheck(inv: Invocation, conf: VxlanConf): Result<Unit, CniError> {
    return cmdCheck(inv, conf);
  }
}

registerHandler(new VxlanPlugin());
