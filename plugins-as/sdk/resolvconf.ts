// resolv.conf text -> the DNS section of a CNI result, as the reference plugins read it
// (containernetworking/plugins host-local dns.go): line by line, white space trimmed, lines that
// are empty or start with '#' or ';' skipped, then by the first field:
//   nameserver A      appends A (further fields ignored)
//   domain D          sets the domain (the last one wins)
//   search S1 S2...   appends every field after the first
//   options O1 O2...  appends every field after the first
// Lines with fewer than two fields and other keywords are ignored.
//
// A plugin cannot open files; this parses text the host (or a runtime) handed over.

import { fields, trimSpace } from "./gostrings";
import { CniDNS } from "./result";

export function parseResolvConf(text: string): CniDNS {
  const dns = new CniDNS();
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = trimSpace(unchecked(lines[i]));
    if (line.length == 0) continue;
    const c = line.charCodeAt(0);
    if (c == 0x23 || c == 0x3b) continue; // '#' or ';'
    const f = fields(line);
    if (f.length < 2) continue;
    const key = unchecked(f[0]);
    if (key == "nameserver") {
      dns.nameservers.push(unchecked(f[1]));
    } else if (key == "domain") {
      dns.domain = unchecked(f[1]);
    } else if (key == "search") {
      for (let k = 1; k < f.length; k++) dns.search.push(unchecked(f[k]));
    } else if (key == "options") {
      for (let k = 1; k < f.length; k++) dns.options.push(unchecked(f[k]));
    }
  }
  return dns;
}
