// MAC anti-spoofing through raw nf_tables netlink, in cni-wasm's own bridge-family table:
//
//   table bridge cni_wasm {
//     chain prerouting {
//       type filter hook prerouting priority -300; policy accept;
//       iifname "veth1a2b3c4d" ether saddr != 0a:58:0a:16:00:05 counter drop comment "<owner> via: ..."
//     }
//   }
//
// One rule per attachment, owned by its comment (owner.ts tokens, as masquerade elements
// are). The reference bridge plugin (macspoofchk) has the same effect with a `bridge nat`
// table and two chains per container; frames the container sends with another source MAC
// never enter the bridge (nor reach the host through it).
//
// ADD: read the generation, dump the chain, then one batch under that generation: create the
// table and chain (idempotent), delete this attachment's earlier rule and any rule of another
// attachment for the same host link (a veth name reused before its old DEL ran), add the rule.
// A repeated ADD with the same link and MAC changes nothing. DEL deletes this owner's rules.
import { SysError, isSysError } from '../errors.ts';
import type { NetnsHandle } from '../netns.ts';
import { NLM_F_APPEND, NLM_F_CREATE } from '../netlink/socket.ts';
import { type BatchMsg, getGen, runBatch, withSocket } from './netlink.ts';
import { type MasqueradeOwner, networkToken, ownedBy, ownerPrefix } from './owner.ts';
import {
  Msg,
  NFPROTO_BRIDGE,
  NFT_META_IIFNAME,
  NFT_PAYLOAD_LL_HEADER,
  NFT_REG_1,
  NF_BR_PRE_ROUTING,
  NF_BR_PRI_NAT_DST_BRIDGED,
  NF_DROP,
  type ParsedRule,
  baseChainAttrs,
  clampComment,
  cmpEq,
  cmpNeq,
  counter,
  metaLoad,
  nfgen,
  nftType,
  parseRuleMessage,
  payloadLoad,
  ruleAttrs,
  ruleHandleAttrs,
  tableAttrs,
  verdict,
} from './wire.ts';

export const BRIDGE_TABLE = 'cni_wasm';
export const BRIDGE_CHAIN = 'prerouting';
export const BRIDGE_TABLE_COMMENT = 'cni-wasm: MAC anti-spoofing for container veths';

export interface MacSpoofSpec extends MasqueradeOwner {
  /** The host end of the container's veth (a bridge port). */
  hostLink: string;
  /** The only source MAC accepted from it, "aa:bb:cc:dd:ee:ff". */
  mac: string;
}

export interface MacSpoofRule {
  handle: bigint;
  comment?: string;
  /** The host link and MAC the comment names (cni-wasm's rules). */
  hostLink?: string;
  mac?: string;
}

const ERESTART_RETRIES = 8;
const IFNAMSIZ = 16;

const bridge = (m: Msg, flags: number, attrs: readonly Buffer[], what: string): BatchMsg => ({
  type: nftType(m),
  flags,
  payload: [nfgen(NFPROTO_BRIDGE), ...attrs],
  what,
});

export function parseMac(mac: string): Buffer {
  const m = typeof mac === 'string' ? /^([0-9a-f]{2})(?::([0-9a-f]{2})){5}$/i.exec(mac) : null;
  if (!m) throw new SysError('EINVAL', 'macspoofchk.mac', `${JSON.stringify(mac)} is not a MAC address (aa:bb:cc:dd:ee:ff)`);
  return Buffer.from(mac.split(':').map((x) => parseInt(x, 16)));
}

function checkLinkName(name: string): void {
  if (typeof name !== 'string' || name.length === 0 || Buffer.byteLength(name) >= IFNAMSIZ || /[\s/:"\\\p{Cc}]/u.test(name) || name === '.' || name === '..') {
    throw new SysError('EINVAL', 'macspoofchk.link', `${JSON.stringify(name)} is not a link name`);
  }
}

const fmtMac = (b: Buffer): string => [...b].map((x) => x.toString(16).padStart(2, '0')).join(':');
const printable = (s: string): string => s.replace(/["\\\p{Cc}]/gu, '');

/** "<token> via: <link>, mac: <mac>, net: <network>, if: <ifname>, id: <container>" */
export function macSpoofComment(spec: MacSpoofSpec, mac: Buffer): string {
  const token = ownerPrefix({ ...spec, ifname: spec.ifname ?? '' });
  return clampComment(`${token} via: ${spec.hostLink}, mac: ${fmtMac(mac)}, net: ${printable(spec.network)}, if: ${printable(spec.ifname ?? '')}, id: ${printable(spec.containerId)}`);
}

function describe(comment: string | undefined): { hostLink?: string; mac?: string } {
  const m = comment === undefined ? null : /^[0-9a-f-]+ via: ([^,\s]+), mac: ([0-9a-f:]{17})(?:,|$)/.exec(comment);
  return m ? { hostLink: m[1]!, mac: m[2]! } : {};
}

function ruleExprs(hostLink: string, mac: Buffer): Buffer[] {
  const name = Buffer.alloc(IFNAMSIZ);
  name.write(hostLink, 'utf8');
  return [
    // iifname "<link>"
    metaLoad(NFT_META_IIFNAME, NFT_REG_1),
    cmpEq(NFT_REG_1, name),
    // ether saddr != <mac>
    payloadLoad(NFT_PAYLOAD_LL_HEADER, 6, 6, NFT_REG_1),
    cmpNeq(NFT_REG_1, mac),
    counter(),
    verdict(NF_DROP),
  ];
}

function setupMessages(): BatchMsg[] {
  return [
    bridge(Msg.NEWTABLE, NLM_F_CREATE, tableAttrs(BRIDGE_TABLE, BRIDGE_TABLE_COMMENT), `add table bridge ${BRIDGE_TABLE}`),
    bridge(Msg.NEWCHAIN, NLM_F_CREATE, baseChainAttrs(BRIDGE_TABLE, BRIDGE_CHAIN, 'filter', NF_BR_PRE_ROUTING, NF_BR_PRI_NAT_DST_BRIDGED), `add chain ${BRIDGE_CHAIN}`),
  ];
}

function dumpRules(s: Parameters<Parameters<typeof withSocket>[1]>[0], op: string): ParsedRule[] {
  try {
    const msgs = s.dump(nftType(Msg.GETRULE), [nfgen(NFPROTO_BRIDGE), ...tableAttrs(BRIDGE_TABLE).slice(0, 1)], { op: `${op}: list rules` });
    return msgs.map((m) => parseRuleMessage(m.data)).filter((r): r is ParsedRule => r !== undefined && (r.chain === undefined || r.chain === BRIDGE_CHAIN));
  } catch (e) {
    if (isSysError(e) && e.errno === 'ENOENT') return [];
    throw e;
  }
}

/**
 * Drop frames entering the bridge from `hostLink` whose source MAC is not `mac`.
 * Idempotent; replaces this attachment's earlier rule and a stale rule of another
 * attachment for the same link name.
 */
export function ensureMacSpoofCheck(spec: MacSpoofSpec, ns?: NetnsHandle): void {
  checkLinkName(spec.hostLink);
  const mac = parseMac(spec.mac);
  const comment = macSpoofComment(spec, mac);
  const prefix = ownerPrefix({ ...spec, ifname: spec.ifname ?? '' });
  const op = `macspoofchk.add ${spec.containerId}`;
  withSocket(ns, (s) => {
    for (let attempt = 0; attempt < ERESTART_RETRIES; attempt++) {
      const gen = getGen(s);
      const rules = dumpRules(s, op);
      const mine = rules.filter((r) => ownedBy(r.comment, prefix));
      if (mine.length === 1 && mine[0]!.comment === comment && rules.filter((r) => describe(r.comment).hostLink === spec.hostLink).length === 1) return;
      const stale = rules.filter((r) => ownedBy(r.comment, prefix) || (ownedBy(r.comment, '') && describe(r.comment).hostLink === spec.hostLink));
      const msgs = [
        ...setupMessages(),
        ...stale.map((r) => bridge(Msg.DELRULE, 0, ruleHandleAttrs(BRIDGE_TABLE, BRIDGE_CHAIN, r.handle), `delete rule ${r.handle}`)),
        bridge(Msg.NEWRULE, NLM_F_CREATE | NLM_F_APPEND, ruleAttrs(BRIDGE_TABLE, BRIDGE_CHAIN, ruleExprs(spec.hostLink, mac), comment), `add rule via ${spec.hostLink}`),
      ];
      try {
        runBatch(s, msgs, op, gen);
        return;
      } catch (e) {
        if (isSysError(e) && e.errno === 'ERESTART') continue;
        throw e;
      }
    }
    throw new SysError('EAGAIN', op, `the ruleset kept changing; gave up after ${ERESTART_RETRIES} attempts`);
  });
}

function removeWhere(ns: NetnsHandle | undefined, op: string, select: (comment: string | undefined) => boolean): number {
  return withSocket(
    ns,
    (s) => {
      for (let attempt = 0; attempt < ERESTART_RETRIES; attempt++) {
        const gen = getGen(s);
        const mine = dumpRules(s, op).filter((r) => select(r.comment));
        if (mine.length === 0) return 0;
        try {
          runBatch(s, mine.map((r) => bridge(Msg.DELRULE, 0, ruleHandleAttrs(BRIDGE_TABLE, BRIDGE_CHAIN, r.handle), `delete rule ${r.handle}`)), op, gen);
          return mine.length;
        } catch (e) {
          if (isSysError(e) && (e.errno === 'ERESTART' || e.errno === 'ENOENT')) continue; // changed meanwhile: read again
          throw e;
        }
      }
      throw new SysError('EAGAIN', op, `the ruleset kept changing; gave up after ${ERESTART_RETRIES} attempts`);
    },
    true,
  );
}

/** Remove the MAC filter of one attachment (all its interfaces if ifname is omitted). Idempotent; returns rules removed. */
export function removeMacSpoofCheck(owner: MasqueradeOwner, ns?: NetnsHandle): number {
  const prefix = ownerPrefix(owner);
  return removeWhere(ns, `macspoofchk.del ${owner.containerId}`, (c) => ownedBy(c, prefix));
}

/** Remove rules of `network` that belong to none of the `keep` attachments (CNI GC). */
export function gcMacSpoofCheck(network: string, keep: readonly MasqueradeOwner[], ns?: NetnsHandle): number {
  const net = networkToken(network);
  const keepPrefixes = keep.map((k) => ownerPrefix({ ...k, network }));
  return removeWhere(ns, `macspoofchk.gc ${network}`, (c) => ownedBy(c, net) && !keepPrefixes.some((p) => ownedBy(c, p)));
}

/** The rules in cni-wasm's bridge table (empty if there is none). */
export function listMacSpoofCheck(ns?: NetnsHandle): MacSpoofRule[] {
  return withSocket(ns, (s) =>
    dumpRules(s, 'macspoofchk.list').map((r) => {
      const out: MacSpoofRule = { handle: r.handle, ...describe(r.comment) };
      if (r.comment !== undefined) out.comment = r.comment;
      return out;
    }),
  );
}

/** Delete cni-wasm's bridge table (uninstall, tests). Idempotent. */
export function deleteMacSpoofTable(ns?: NetnsHandle): void {
  withSocket(ns, (s) => {
    try {
      runBatch(s, [bridge(Msg.DELTABLE, 0, tableAttrs(BRIDGE_TABLE).slice(0, 1), `delete table bridge ${BRIDGE_TABLE}`)], 'macspoofchk.uninstall');
    } catch (e) {
      if (!(isSysError(e) && e.errno === 'ENOENT')) throw e;
    }
  });
}
