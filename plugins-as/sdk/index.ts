// The cni-wasm plugin SDK. A plugin's entry file (plugins-as/<name>/index.ts) does:
//   import { Handler, registerHandler, ... } from "../sdk";
//   export * from "../sdk/generated/exports";   // cabi_realloc and the handler trampolines
//   registerHandler(new MyPlugin());
// See docs/plugin-authoring.md.

// Generated from wit/plugin.wit: WIT types, Result/Some/Unit, the typed imports (namespaces
// log, netlink, sysctl, firewall, store, files, ipam), Handler and registerHandler.
export * from "./generated/bindings";

export * from "./strbuf";
export * from "./json";
export * from "./ip";
export * from "./result";
export * from "./config";
export * from "./errors";
export * from "./plugin";
