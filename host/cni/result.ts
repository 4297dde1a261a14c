// CNI ADD results in every spec version: typed shapes, parsing with validation, conversion between
// versions, and the JSON a plugin prints. Conversion follows containernetworking/cni's pkg/types
// (020, 040, 100) so runtimes see what a Go plugin would give them.
//
// Rule for the plugin side: a prevResult is read in whatever version it carries; a result is
// written in the config's version (convertResult(r, configVersion)).
import { CniError, ErrorCode, type ErrorCodeValue } from './errors.ts';
import { isSupportedVersion, type CniVersion } from './version.ts';
import { parseCIDR, parseIP, type IpFamily } from './ipaddr.ts';

export type Version02x = '0.1.0' | '0.2.0';
export type Version04x = '0.3.0' | '0.3.1' | '0.4.0';
export type Version1x = '1.0.0' | '1.1.0';

export interface Dns {
  nameservers?: string[];
  domain?: string;
  search?: string[];
  options?: string[];
}

/**
 * A route in 0.3.0 and later. mtu/advmss/priority/table/scope arrived in spec 1.1.0, but libcni
 * uses one Route type for 0.3.x–1.x and copies these fields on every conversion between them,
 * so a 0.4.0 result keeps them too; we do the same.
 */
export interface Route {
  dst: string;
  gw?: string;
  mtu?: number;
  advmss?: number;
  priority?: number;
  table?: number;
  scope?: number;
}

export interface Interface040 {
  name: string;
  mac?: string;
  sandbox?: string;
}

/** mtu, socketPath and pciID are spec 1.1.0; libcni's 1.0.0 and 1.1.0 share this type. */
export interface Interface1x extends Interface040 {
  mtu?: number;
  socketPath?: string;
  pciID?: string;
}

export interface IPConfig1x {
  /** Index into `interfaces`. */
  interface?: number;
  address: string;
  gateway?: string;
}

export interface IPConfig040 extends IPConfig1x {
  version: '4' | '6';
}

export interface Result1x {
  cniVersion: Version1x;
  interfaces?: Interface1x[];
  ips?: IPConfig1x[];
  routes?: Route[];
  dns?: Dns;
}

export interface Result040 {
  cniVersion: Version04x;
  interfaces?: Interface040[];
  ips?: IPConfig040[];
  routes?: Route[];
  dns?: Dns;
}

export interface Route020 {
  dst: string;
  gw?: string;
}

export interface IPConfig020 {
  ip: string;
  gateway?: string;
  routes?: Route020[];
}

export interface Result020 {
  cniVersion: Version02x;
  ip4?: IPConfig020;
  ip6?: IPConfig020;
  dns?: Dns;
}

export type AnyResult = Result020 | Result040 | Result1x;

/** The result type a version is written in. */
export type ResultFor<V extends CniVersion> = V extends Version02x
  ? Result020
  : V extends Version04x
    ? Result040
    : Result1x;

type Family = '02x' | '04x' | '1x';

function familyOf(v: string): Family {
  switch (v) {
    case '0.1.0':
    case '0.2.0':
      return '02x';
    case '0.3.0':
    case '0.3.1':
    case '0.4.0':
      return '04x';
    case '1.0.0':
    case '1.1.0':
      return '1x';
    default:
      throw new CniError(ErrorCode.IncompatibleVersion, `unsupported CNI result version ${JSON.stringify(v)}`);
  }
}

export function isResult020(r: AnyResult): r is Result020 {
  return familyOf(r.cniVersion) === '02x';
}
export function isResult040(r: AnyResult): r is Result040 {
  return familyOf(r.cniVersion) === '04x';
}
export function isResult1x(r: AnyResult): r is Result1x {
  return familyOf(r.cniVersion) === '1x';
}

// ---------------------------------------------------------------------------------------------
// Parsing

export interface ParseResultOptions {
  /** Code for a malformed shape; default 7 (InvalidConfig, right for a prevResult in a config). */
  code?: ErrorCodeValue;
  /**
   * Version to assume when `cniVersion` is missing or "". libcni uses the config's version both
   * for a prevResult (version.ParsePrevResult) and for a plugin's stdout (invoke's
   * fixupResultVersion), because results before 1.0.0 need not carry one. Without it we fall back
   * to "0.1.0", as libcni's create.CreateFromBytes does.
   */
  versionIfMissing?: string;
}

type Obj = Record<string, unknown>;

class Reader {
  constructor(private readonly code: ErrorCodeValue) {}

  fail(path: string, want: string, got: unknown): never {
    let shown: string;
    try {
      shown = JSON.stringify(got) ?? String(got);
    } catch {
      shown = String(got);
    }
    if (shown.length > 80) shown = `${shown.slice(0, 77)}...`;
    throw new CniError(this.code, `invalid result: ${path} ${want}, got ${shown}`);
  }

  obj(v: unknown, path: string): Obj {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) this.fail(path, 'must be an object', v);
    return v as Obj;
  }

  // Absent and null are the same, as in Go's decoder; the same goes for "" where Go omits it.
  optObj(o: Obj, key: string, path: string): Obj | undefined {
    const v = o[key];
    return v === undefined || v === null ? undefined : this.obj(v, `${path}.${key}`);
  }

  optArray(o: Obj, key: string, path: string): unknown[] | undefined {
    const v = o[key];
    if (v === undefined || v === null) return undefined;
    if (!Array.isArray(v)) this.fail(`${path}.${key}`, 'must be an array', v);
    return v;
  }

  reqString(o: Obj, key: string, path: string): string {
    const v = o[key];
    if (typeof v !== 'string') this.fail(`${path}.${key}`, 'must be a string', v);
    return v;
  }

  /** Empty string counts as absent: Go's omitempty never prints it. */
  optString(o: Obj, key: string, path: string): string | undefined {
    const v = o[key];
    if (v === undefined || v === null || v === '') return undefined;
    if (typeof v !== 'string') this.fail(`${path}.${key}`, 'must be a string', v);
    return v;
  }

  optStrings(o: Obj, key: string, path: string): string[] | undefined {
    const a = this.optArray(o, key, path);
    if (!a) return undefined;
    a.forEach((s, i) => {
      if (typeof s !== 'string') this.fail(`${path}.${key}[${i}]`, 'must be a string', s);
    });
    return a.length ? (a as string[]) : undefined;
  }

  /**
   * The spec's uint fields. keepZero: table and scope are pointers in Go, so 0 is a value there;
   * for the others 0 means "unset" and Go omits it.
   */
  optUint(o: Obj, key: string, path: string, keepZero = false): number | undefined {
    const v = o[key];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 0xffffffff) {
      this.fail(`${path}.${key}`, 'must be an unsigned integer', v);
    }
    return v === 0 && !keepZero ? undefined : v;
  }

  cidr(o: Obj, key: string, path: string): { text: string; family: IpFamily } {
    const s = this.reqString(o, key, path);
    const c = parseCIDR(s);
    if (!c) this.fail(`${path}.${key}`, 'must be an IP address in CIDR notation', s);
    return c;
  }

  optIP(o: Obj, key: string, path: string): string | undefined {
    const s = this.optString(o, key, path);
    if (s === undefined) return undefined;
    const ip = parseIP(s);
    if (!ip) this.fail(`${path}.${key}`, 'must be an IP address', s);
    return ip.text;
  }
}

function readDns(r: Reader, o: Obj, path: string): Dns | undefined {
  const d = r.optObj(o, 'dns', path);
  if (!d) return undefined;
  const p = `${path}.dns`;
  return emptyToUndefined(
    compact<Dns>({
      nameservers: r.optStrings(d, 'nameservers', p),
      domain: r.optString(d, 'domain', p),
      search: r.optStrings(d, 'search', p),
      options: r.optStrings(d, 'options', p),
    }),
  );
}

/** An empty dns object is kept out of results in memory; resultToJSON prints "{}" where Go does. */
function emptyToUndefined(d: Dns): Dns | undefined {
  return Object.keys(d).length ? d : undefined;
}

function readRoute(r: Reader, o: Obj, path: string): Route {
  return compact<Route>({
    dst: r.cidr(o, 'dst', path).text,
    gw: r.optIP(o, 'gw', path),
    mtu: r.optUint(o, 'mtu', path),
    advmss: r.optUint(o, 'advmss', path),
    priority: r.optUint(o, 'priority', path),
    table: r.optUint(o, 'table', path, true),
    scope: r.optUint(o, 'scope', path, true),
  });
}

function readList<T>(r: Reader, o: Obj, key: string, path: string, each: (e: Obj, p: string) => T): T[] | undefined {
  const a = r.optArray(o, key, path);
  if (!a || a.length === 0) return undefined;
  return a.map((e, i) => {
    const p = `${path}.${key}[${i}]`;
    return each(r.obj(e, p), p);
  });
}

function readIPConfig1x(r: Reader, o: Obj, path: string): IPConfig1x & { family: IpFamily } {
  const addr = r.cidr(o, 'address', path);
  return {
    ...compact<IPConfig1x>({
      interface: r.optUint(o, 'interface', path, true),
      address: addr.text,
      gateway: r.optIP(o, 'gateway', path),
    }),
    family: addr.family,
  };
}

function read1x(r: Reader, o: Obj, path: string, cniVersion: Version1x): Result1x {
  return compact<Result1x>({
    cniVersion,
    interfaces: readList(r, o, 'interfaces', path, (e, p) =>
      compact<Interface1x>({
        name: r.reqString(e, 'name', p),
        mac: r.optString(e, 'mac', p),
        mtu: r.optUint(e, 'mtu', p),
        sandbox: r.optString(e, 'sandbox', p),
        socketPath: r.optString(e, 'socketPath', p),
        pciID: r.optString(e, 'pciID', p),
      }),
    ),
    ips: readList(r, o, 'ips', path, (e, p) => {
      const { family: _family, ...ipc } = readIPConfig1x(r, e, p);
      return ipc;
    }),
    routes: readList(r, o, 'routes', path, (e, p) => readRoute(r, e, p)),
    dns: readDns(r, o, path),
  });
}

function read040(r: Reader, o: Obj, path: string, cniVersion: Version04x): Result040 {
  return compact<Result040>({
    cniVersion,
    // mtu/socketPath/pciID on an interface are not part of 0.x; libcni drops them when decoding.
    interfaces: readList(r, o, 'interfaces', path, (e, p) =>
      compact<Interface040>({
        name: r.reqString(e, 'name', p),
        mac: r.optString(e, 'mac', p),
        sandbox: r.optString(e, 'sandbox', p),
      }),
    ),
    ips: readList(r, o, 'ips', path, (e, p) => {
      const { family, ...ipc } = readIPConfig1x(r, e, p);
      const derived = family === 4 ? '4' : '6';
      const v = e['version'];
      // libcni accepts a missing version (and then loses the IP when converting to 0.2.0); we
      // fill it in from the address instead. A wrong one is refused: it would misfile the IP.
      if (v !== undefined && v !== null && v !== '') {
        if (v !== '4' && v !== '6') r.fail(`${p}.version`, 'must be "4" or "6"', v);
        if (v !== derived) r.fail(`${p}.version`, `does not match address ${ipc.address}`, v);
      }
      return { version: derived, ...ipc };
    }),
    routes: readList(r, o, 'routes', path, (e, p) => readRoute(r, e, p)),
    dns: readDns(r, o, path),
  });
}

function read020(r: Reader, o: Obj, path: string, cniVersion: Version02x): Result020 {
  const slot = (key: 'ip4' | 'ip6', family: IpFamily): IPConfig020 | undefined => {
    const c = r.optObj(o, key, path);
    if (!c) return undefined;
    const p = `${path}.${key}`;
    const ip = r.cidr(c, 'ip', p);
    if (ip.family !== family) r.fail(`${p}.ip`, `must be an IPv${family} address`, ip.text);
    return compact<IPConfig020>({
      ip: ip.text,
      gateway: r.optIP(c, 'gateway', p),
      routes: readList(r, c, 'routes', p, (e, rp) =>
        compact<Route020>({ dst: r.cidr(e, 'dst', rp).text, gw: r.optIP(e, 'gw', rp) }),
      ),
    });
  };
  return compact<Result020>({
    cniVersion,
    ip4: slot('ip4', 4),
    ip6: slot('ip6', 6),
    dns: readDns(r, o, path),
  });
}

/**
 * Read a result of any supported version (a prevResult, a plugin's stdout), validating its shape.
 * Addresses come back in canonical form and values Go would omit (empty strings, zero mtu) are
 * dropped, so the object equals what resultToJSON prints. Unknown keys are ignored, as Go does.
 * Throws CniError: options.code (default 7) for a bad shape, 1 for an unsupported version.
 */
export function parseResult(json: unknown, where: string, options: ParseResultOptions = {}): AnyResult {
  const r: Reader = new Reader(options.code ?? ErrorCode.InvalidConfig);
  const o = r.obj(json, where);
  const raw = o['cniVersion'];
  let version: string;
  if (raw === undefined || raw === null || raw === '') version = options.versionIfMissing ?? '0.1.0';
  else if (typeof raw === 'string') version = raw;
  else r.fail(`${where}.cniVersion`, 'must be a string', raw);
  if (!isSupportedVersion(version)) {
    throw new CniError(
      ErrorCode.IncompatibleVersion,
      `${where} has unsupported CNI version ${JSON.stringify(version)}`,
    );
  }
  switch (familyOf(version)) {
    case '02x':
      return read020(r, o, where, version as Version02x);
    case '04x':
      return read040(r, o, where, version as Version04x);
    case '1x':
      return read1x(r, o, where, version as Version1x);
  }
}

/**
 * The prevResult of a plugin config, in whatever version it carries, or undefined when there is
 * none (absent or null). A missing cniVersion means the config's version, as in libcni.
 * libcni goes further and refuses a prevResult from another result family than the config's
 * (its ParsePrevResult decodes with the config version's type); we accept any version, since
 * every result converts to the config's version anyway.
 */
export function prevResultFromConfig(config: Record<string, unknown>, configVersion: string): AnyResult | undefined {
  const raw = config['prevResult'];
  if (raw === undefined || raw === null) return undefined;
  return parseResult(raw, 'prevResult', { code: ErrorCode.InvalidConfig, versionIfMissing: configVersion });
}

// ---------------------------------------------------------------------------------------------
// Conversion

function copyDns(d: Dns | undefined): Dns | undefined {
  if (!d) return undefined;
  return emptyToUndefined(
    compact<Dns>({
      nameservers: d.nameservers?.length ? [...d.nameservers] : undefined,
      domain: d.domain || undefined,
      search: d.search?.length ? [...d.search] : undefined,
      options: d.options?.length ? [...d.options] : undefined,
    }),
  );
}

const copyRoute = (rt: Route): Route => compact<Route>({ ...rt });
const copyRoute020 = (rt: Route020): Route020 => compact<Route020>({ dst: rt.dst, gw: rt.gw });

function ipFamily(address: string): '4' | '6' {
  // Results we convert were parsed or built by our code; a colon is enough to tell IPv6.
  return address.includes(':') ? '6' : '4';
}

function nonEmpty<T>(a: T[] | undefined): T[] | undefined {
  return a && a.length ? a : undefined;
}

/** 0.1.0/0.2.0 → 0.4.0 shape: ip4 then ip6 become `ips`, their routes are collected in that order. */
function up020(from: Result020): Omit<Result040, 'cniVersion'> {
  const ips: IPConfig040[] = [];
  const routes: Route[] = [];
  for (const [c, version] of [
    [from.ip4, '4'],
    [from.ip6, '6'],
  ] as const) {
    if (!c) continue;
    ips.push(compact<IPConfig040>({ version, address: c.ip, gateway: c.gateway }));
    for (const rt of c.routes ?? []) routes.push(copyRoute020(rt));
  }
  return { ips: nonEmpty(ips), routes: nonEmpty(routes), dns: copyDns(from.dns) };
}

/**
 * 0.3.0+ → 0.1.0/0.2.0: the first IP of each family (libcni decides by `version`), routes filed
 * by the family of their dst under an IP of that family (others are lost), only dst and gw kept.
 * No IP at all cannot be expressed: libcni fails with a plain error that its skel reports as 999;
 * we say what it is, an incompatible version (code 1).
 */
function down020(from: Result040 | Result1x, toVersion: Version02x): Result020 {
  let ip4: IPConfig020 | undefined;
  let ip6: IPConfig020 | undefined;
  for (const ipc of from.ips ?? []) {
    const fam = 'version' in ipc ? ipc.version : ipFamily(ipc.address);
    if (fam === '4' && !ip4) ip4 = compact<IPConfig020>({ ip: ipc.address, gateway: ipc.gateway });
    else if (fam === '6' && !ip6) ip6 = compact<IPConfig020>({ ip: ipc.address, gateway: ipc.gateway });
  }
  if (!ip4 && !ip6) {
    throw new CniError(
      ErrorCode.IncompatibleVersion,
      `cannot convert result from CNI version ${from.cniVersion} to ${toVersion}: no valid IP addresses`,
      `CNI ${toVersion} results need at least one IP address`,
    );
  }
  for (const rt of from.routes ?? []) {
    const slot = ipFamily(rt.dst) === '4' ? ip4 : ip6;
    if (slot) (slot.routes ??= []).push(copyRoute020(rt));
  }
  return compact<Result020>({ cniVersion: toVersion, ip4, ip6, dns: copyDns(from.dns) });
}

/**
 * Convert a result to another spec version (the output's cniVersion is toVersion), as libcni
 * does. Lossy where the target cannot hold a field: to 0.x, interfaces lose mtu/socketPath/pciID;
 * to 0.1.0/0.2.0, interfaces, extra IPs per family, route attributes and IP interface indexes go.
 * Throws CniError 1 for an unsupported target or a result with no IP converted to 0.1.0/0.2.0.
 */
export function convertResult<V extends CniVersion>(result: AnyResult, toVersion: V): ResultFor<V>;
export function convertResult(result: AnyResult, toVersion: string): AnyResult;
export function convertResult(result: AnyResult, toVersion: string): AnyResult {
  if (!isSupportedVersion(toVersion)) {
    throw new CniError(
      ErrorCode.IncompatibleVersion,
      `cannot convert result to unsupported CNI version ${JSON.stringify(toVersion)}`,
    );
  }
  const to = familyOf(toVersion);

  if (isResult020(result)) {
    if (to === '02x') {
      const slot = (c: IPConfig020 | undefined): IPConfig020 | undefined =>
        c && compact<IPConfig020>({ ip: c.ip, gateway: c.gateway, routes: nonEmpty(c.routes?.map(copyRoute020)) });
      return compact<Result020>({
        cniVersion: toVersion as Version02x,
        ip4: slot(result.ip4),
        ip6: slot(result.ip6),
        dns: copyDns(result.dns),
      });
    }
    const mid = up020(result);
    if (to === '04x') return compact<Result040>({ cniVersion: toVersion as Version04x, ...mid });
    return compact<Result1x>({
      cniVersion: toVersion as Version1x,
      ips: mid.ips?.map(({ version: _v, ...ipc }) => ipc),
      routes: mid.routes,
      dns: mid.dns,
    });
  }

  if (to === '02x') return down020(result, toVersion as Version02x);

  // Between 0.3.0+ versions: interfaces, IPs (with their interface index), routes with every
  // attribute and dns are carried; only the shapes of interfaces and ips differ.
  const routes = nonEmpty(result.routes?.map(copyRoute));
  const dns = copyDns(result.dns);
  if (to === '04x') {
    return compact<Result040>({
      cniVersion: toVersion as Version04x,
      interfaces: nonEmpty(
        result.interfaces?.map((i) => compact<Interface040>({ name: i.name, mac: i.mac, sandbox: i.sandbox })),
      ),
      ips: nonEmpty(
        result.ips?.map((ipc) =>
          compact<IPConfig040>({
            version: ipFamily(ipc.address),
            interface: ipc.interface,
            address: ipc.address,
            gateway: ipc.gateway,
          }),
        ),
      ),
      routes,
      dns,
    });
  }
  return compact<Result1x>({
    cniVersion: toVersion as Version1x,
    // Spreading a 0.x interface copies only what it has; a 1.x one keeps mtu/socketPath/pciID.
    interfaces: nonEmpty(result.interfaces?.map((i) => compact<Interface1x>({ ...i }))),
    ips: nonEmpty(
      result.ips?.map((ipc) =>
        compact<IPConfig1x>({ interface: ipc.interface, address: ipc.address, gateway: ipc.gateway }),
      ),
    ),
    routes,
    dns,
  });
}

// ---------------------------------------------------------------------------------------------
// Output

/**
 * The JSON a plugin prints, formatted as libcni's PrintTo does: keys in Go's struct order (cniVersion, interfaces, ips, routes, dns; ip4, ip6, dns before
 * 0.3.0), 4-space indent, no trailing newline, Go's omitempty rules, and Go's escaping of < > &.
 * "dns" is always printed before 1.0.0 (Go's omitempty cannot omit a struct); from 1.0.0 it is
 * left out when empty, as libcni >= 1.2 (the one implementing spec 1.1.0) does. libcni >= 1.2
 * also sorts 1.x keys alphabetically, a side effect of how it drops "dns"; we keep struct order,
 * which older libcni (e.g. Debian's plugins) prints and which reads better. Key order carries no
 * meaning in JSON.
 */
export function resultToJSON(result: AnyResult): string {
  const fam = familyOf(result.cniVersion);
  const dns = (d: Dns | undefined): Dns | undefined => copyDns(d) ?? (fam === '1x' ? undefined : {});
  const route = (rt: Route): Route =>
    compact<Route>({
      dst: rt.dst,
      gw: rt.gw || undefined,
      mtu: rt.mtu || undefined,
      advmss: rt.advmss || undefined,
      priority: rt.priority || undefined,
      table: rt.table,
      scope: rt.scope,
    });

  let out: object;
  if (isResult020(result)) {
    const slot = (c: IPConfig020 | undefined): IPConfig020 | undefined =>
      c &&
      compact<IPConfig020>({
        ip: c.ip,
        gateway: c.gateway || undefined,
        routes: nonEmpty(c.routes?.map((rt) => compact<Route020>({ dst: rt.dst, gw: rt.gw || undefined }))),
      });
    out = compact<Result020>({ cniVersion: result.cniVersion, ip4: slot(result.ip4), ip6: slot(result.ip6), dns: dns(result.dns) });
  } else if (isResult040(result)) {
    out = compact<Result040>({
      cniVersion: result.cniVersion,
      interfaces: nonEmpty(
        result.interfaces?.map((i) =>
          compact<Interface040>({ name: i.name, mac: i.mac || undefined, sandbox: i.sandbox || undefined }),
        ),
      ),
      ips: nonEmpty(
        result.ips?.map((ipc) =>
          compact<IPConfig040>({
            version: ipc.version,
            interface: ipc.interface,
            address: ipc.address,
            gateway: ipc.gateway || undefined,
          }),
        ),
      ),
      routes: nonEmpty(result.routes?.map(route)),
      dns: dns(result.dns),
    });
  } else {
    const r: Result1x = result;
    out = compact<Result1x>({
      cniVersion: r.cniVersion,
      interfaces: nonEmpty(
        r.interfaces?.map((i) =>
          compact<Interface1x>({
            name: i.name,
            mac: i.mac || undefined,
            mtu: i.mtu || undefined,
            sandbox: i.sandbox || undefined,
            socketPath: i.socketPath || undefined,
            pciID: i.pciID || undefined,
          }),
        ),
      ),
      ips: nonEmpty(
        r.ips?.map((ipc) =>
          compact<IPConfig1x>({ interface: ipc.interface, address: ipc.address, gateway: ipc.gateway || undefined }),
        ),
      ),
      routes: nonEmpty(r.routes?.map(route)),
      dns: dns(r.dns),
    });
  }
  // These characters only occur inside JSON strings, so a global replace is safe.
  return JSON.stringify(out, null, 4).replace(/[<>&\u2028\u2029]/g, (c) =>
    `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

/** Drop keys whose value is undefined, so objects compare equal with toEqual/deepStrictEqual and print cleanly. */
function compact<T extends object>(o: { [K in keyof T]: T[K] | undefined }): T {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) out[k] = v;
  return out as T;
}
