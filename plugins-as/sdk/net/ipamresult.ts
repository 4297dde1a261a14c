// The IPAM plugin's answer taken into the plugin's own result: its IPs, routes and DNS.
import { CniError } from "../generated/bindings";
import { ErrorCode, cniError } from "../errors";
import { parseJson } from "../json";
import { CniResult } from "../result";
import { resultFromJson } from "../config";
import { errorf } from "./errors";

/** Copy ips, routes and dns of the IPAM result JSON into `result`; an error when it has no IP. */
export function adoptIpamResult(result: CniResult, ipamJson: string): CniError | null {
  const parsed = parseJson(ipamJson);
  if (!parsed.ok || !parsed.value!.isObject()) return cniError(ErrorCode.DecodeFailure, "failed to decode the IPAM result: " + parsed.error);
  const ir = resultFromJson(parsed.value!, "IPAM result");
  if (!ir.ok) return cniError(ErrorCode.DecodeFailure, ir.error);
  const ipamResult = ir.result!;
  result.ips = ipamResult.ips;
  result.routes = ipamResult.routes;
  result.dns = ipamResult.dns;
  if (result.ips.length == 0) return errorf("IPAM plugin returned missing IP config");
  return null;
}
