// The bridge plugin: a drop-in for the reference plugins/main/bridge. Containers get a veth
// pair whose host end is a port of a Linux bridge; with IPAM the bridge can be their gateway
// and masquerade their traffic. The building blocks live in ../sdk/net (shared with vxlan);
// this file only dispatches. See docs/compatibility.md for the differences to the reference.
import { CniError, Invocation, Result, Unit, registerHandler } from "../sdk";
import { ConfiguredHandler, Parsed } from "../sdk/net";
import { BridgeConf, loadConf } from "./conf";
import { cmdAdd } from "./add";
import { cmdDel } from "./del";
import { cmdCheck } from "./check";

export * from "../sdk/generated/exports";

// The request and configuration prelude of every command is ConfiguredHandler's (../sdk/net).
class BridgePlugin extends ConfiguredHandler<BridgeConf> {
  // STATUS and GC only parse the request (not the bridge's configuration): the bridge keeps no
  // state of its own; IPAM may, and is asked when the network configures one (the base's default).
  constructor() {
    super(false);
  }

  loadConf(inv: Invocation): Parsed<BridgeConf> {
    return loadConf(inv);
  }

  onAdd(inv: Invocation, conf: BridgeConf): Result<string, CniError> {
    return cmdAdd(inv, conf);
  }

  onDel(inv: Invocation, conf: BridgeConf): Result<Unit, CniError> {
    return cmdDel(inv, conf);
  }

  onCheck(inv: Invocation, conf: BridgeConf): Result<Unit, CniError> {
    return cmdCheck(inv, conf);
  }
}

registerHandler(new BridgePlugin());
