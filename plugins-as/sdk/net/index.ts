// Network building blocks shared by the plugins that attach containers to a host network
// (bridge, vxlan): bridges and their gateway addresses, veth pairs with the container end made
// inside the container, container addresses and routes from a result, gateways, forwarding,
// masquerade, and the CHECK comparisons. Each returns the reference plugins' error messages
// with code 999, as their Go errors reach a runtime.
//
//   import { ensureBridge, setupVeth, configureIface, ... } from "../sdk/net";
export * from "./errors";
export * from "./mac";
export * from "./sysctl";
export * from "./bridge";
export * from "./veth";
export * from "./iface";
export * from "./gateway";
export * from "./forward";
export * from "./masq";
export * from "./check";
export * from "./ipamresult";
export * from "./macspoof";
export * from "./handler";
