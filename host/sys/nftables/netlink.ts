// Masquerade through raw nf_tables netlink: one batch (one sendmsg, one transaction)
// per ADD, no exec. See layout.ts for the ruleset and owner.ts for element ownership.
//
// ADD (hot path): read the container's elements by key, then one batch that only adds
// them (EXCL). If they exist with another owner's comment (an address reused before its
// old DEL ran), the batch does "add; delete; add" of them in one transaction, so that they
// end up present with this attachment's comment; no dump is needed. Only when the kernel answers
// ENOENT (table or set missing: first use, or someone deleted the table) is the batch
// resent with the table, chain, sets and rules in front of it; that setup part is
// idempotent (create without EXCL; the chain is flushed and refilled in the same
// transaction), so concurrent first ADDs cannot duplicate rules.
//
// Cost note: a transaction that deletes something leaves work for after an RCU grace
// period, and closing the netfilter socket waits for it; a transaction the kernel aborts
// waits for one inside sendmsg (~8-20 ms each, measured here). The pure-add ADD avoids
// both; DEL cannot (see bench/sys-firewall-sysctl.mjs).
//
// DEL: read the generation id, dump the four sets, delete the elements whose comment
// carries this attachment's token, in a batch that names the generation it read
// (NFNL_BATCH_GENID): if anything changed the ruleset in between, the kernel refuses the
// batch with ERESTART and the DEL starts over, so it never deletes an element that a
// concurrent ADD has just taken over.
import { SysError, isSysError } from '../errors.ts';
import type { NetnsHandle } from '../netns.ts';
import { NETLINK_NETFILTER, NLM_F_ACK, NLM_F_APPEND, NLM_F_CREATE, NLM_F_EXCL, NetlinkSocket, type OutMessage } from '../netlink/socket.ts';
import { type Cidr, formatAddr, parseCidr } from './cidr.ts';
import { ALL_SETS, CHAIN, SETS, TABLE, TABLE_COMMENT } from './layout.ts';
import { type MasqueradeOwner, networkToken, ownedBy, ownerComment, ownerPrefix, tokenOf } from './owner.ts';
import {
  Msg,
  NFNL_BATCH_GENID,
  NFNL_MSG_BATCH_BEGIN,
  NFNL_MSG_BATCH_END,
  NFNL_SUBSYS_NFTABLES,
  NFPROTO_INET,
  NFPROTO_IPV4,
  NFPROTO_IPV6,
  NFPROTO_UNSPEC,
  NFT_META_NFPROTO,
  NFT_PAYLOAD_NETWORK_HEADER,
  NFT_REG32_01,
  NFT_REG_1,
  NFT_REG_2,
  NFT_RETURN,
  NF_INET_POST_ROUTING,
  NF_IP_PRI_NAT_SRC,
  type ElemDef,
  type ParsedElem,
  TYPE_IP6ADDR,
  TYPE_IPADDR,
  be32,
  bitwiseMask,
  cmpEq,
  concatType,
  counter,
  elemListAttrs,
  elemListQuery,
  flushChainAttrs,
  lookup,
  masq,
  metaLoad,
  natChainAttrs,
  nfgen,
  nftType,
  parseElemMessage,
  parseGenId,
  payloadLoad,
  ruleAttrs,
  setAttrs,
  tableAttrs,
  verdict,
} from './wire.ts';

export interface MasqueradeSpec extends MasqueradeOwner {
  /** The container's addresses with their prefix length, e.g. ["10.22.0.5/16", "fd00::5/64"]. */
  addresses: readonly string[];
}

/** One container address as found in the table. */
export interface MasqueradeEntry {
  family: 4 | 6;
  address: string;
  /** The subnet traffic to which is not masqueraded, e.g. "10.22.0.0/16" (absent if only the masq element exists). */
  subnet?: string;
  /** The element comment (owner token and description). */
  comment?: string;
  /** Owner token (hashes), when the comment is one cni-wasm wrote. */
  owner?: string;
  /** In the masq set (traffic from it is masqueraded). */
  masquerade: boolean;
}

const ERESTART = 85;
const RETRIES = 8;

// Set ids name sets created in the same batch (lookup expressions refer to them).
const SET_IDS: Record<string, number> = { masq4: 1, subnet4: 2, masq6: 3, subnet6: 4 };

/**
 * Run `fn` with a netfilter socket in `ns`. With `linger`, the socket is closed a little
 * later (an unref'd timer, or the next call, or process exit) instead of now: after a
 * transaction that deleted something, close() waits for an RCU grace period, and deferring
 * it lets that wait overlap with the caller's next work (a CNI DEL goes on to delete links).
 */
export function withSocket<T>(ns: NetnsHandle | undefined, fn: (s: NetlinkSocket) => T, linger = false): T {
  closeLingering(false);
  const s = NetlinkSocket.open(ns, { protocol: NETLINK_NETFILTER, rcvbuf: 4 * 1024 * 1024 });
  let ok = false;
  try {
    const r = fn(s);
    ok = true;
    return r;
  } finally {
    if (linger && ok) {
      lingering.push({ s, since: performance.now() });
      setTimeout(() => closeLingering(false), LINGER_MS + 1).unref();
    } else s.close();
  }
}

const LINGER_MS = 50;
const lingering: { s: NetlinkSocket; since: number }[] = [];

/** Close sockets kept open after deletions: those older than the linger time, or all. */
export function closeLingering(all = true): void {
  const now = performance.now();
  for (let i = lingering.length - 1; i >= 0; i--) {
    const l = lingering[i]!;
    if (all || now - l.since >= LINGER_MS) {
      lingering.splice(i, 1);
      l.s.close();
    }
  }
}

export interface BatchMsg extends OutMessage {
  what: string;
}

const inet = (m: Msg, flags: number, attrs: readonly Buffer[], what: string): BatchMsg => ({
  type: nftType(m),
  flags,
  payload: [nfgen(NFPROTO_INET), ...attrs],
  what,
});

/** Send one nf_tables transaction; throws the first error, naming the message that failed. */
export function runBatch(s: NetlinkSocket, msgs: readonly BatchMsg[], op: string, genId?: number): void {
  const beginAttrs = genId === undefined ? [] : [be32(NFNL_BATCH_GENID, genId)];
  const out: OutMessage[] = [
    { type: NFNL_MSG_BATCH_BEGIN, payload: [nfgen(NFPROTO_UNSPEC, NFNL_SUBSYS_NFTABLES), ...beginAttrs] },
    ...msgs.map((m) => ({ type: m.type, flags: (m.flags ?? 0) | NLM_F_ACK, payload: m.payload })),
    { type: NFNL_MSG_BATCH_END, payload: nfgen(NFPROTO_UNSPEC, NFNL_SUBSYS_NFTABLES) },
  ];
  const replies = s.transact(out, { op });
  for (let i = 0; i < replies.length; i++) {
    const err = replies[i]!.error;
    if (!err) continue;
    // replies[] follows `out`: index 0 is the batch begin (generation check), then msgs.
    const what = i === 0 ? 'batch' : (msgs[i - 1]?.what ?? 'batch');
    const opts: { extack?: string; errnoNumber?: number; cause: unknown } = { cause: err };
    if (err.extack !== undefined) opts.extack = err.extack;
    if (err.errnoNumber !== undefined) opts.errnoNumber = err.errnoNumber;
    throw new SysError(err.errnoNumber === ERESTART ? 'ERESTART' : err.errno, `${op}: ${what}`, undefined, opts);
  }
}

// ---------------------------------------------------------------------------------------
// the table

function rules(): Buffer[][] {
  const nfproto = (p: number): Buffer[] => [metaLoad(NFT_META_NFPROTO, NFT_REG_1), cmpEq(NFT_REG_1, Buffer.of(p))];
  const v4saddr = payloadLoad(NFT_PAYLOAD_NETWORK_HEADER, 12, 4, NFT_REG_1);
  const v6saddr = payloadLoad(NFT_PAYLOAD_NETWORK_HEADER, 8, 16, NFT_REG_1);
  return [
    // ip daddr 224.0.0.0/4 return
    [
      ...nfproto(NFPROTO_IPV4),
      payloadLoad(NFT_PAYLOAD_NETWORK_HEADER, 16, 4, NFT_REG_1),
      bitwiseMask(NFT_REG_1, Buffer.of(0xf0, 0, 0, 0)),
      cmpEq(NFT_REG_1, Buffer.of(0xe0, 0, 0, 0)),
      verdict(NFT_RETURN),
    ],
    // ip6 daddr ff00::/8 return
    [...nfproto(NFPROTO_IPV6), payloadLoad(NFT_PAYLOAD_NETWORK_HEADER, 24, 1, NFT_REG_1), cmpEq(NFT_REG_1, Buffer.of(0xff)), verdict(NFT_RETURN)],
    // ip saddr . ip daddr @subnet4 return
    [
      ...nfproto(NFPROTO_IPV4),
      v4saddr,
      payloadLoad(NFT_PAYLOAD_NETWORK_HEADER, 16, 4, NFT_REG32_01),
      lookup(SETS[4].subnet, SET_IDS[SETS[4].subnet]!, NFT_REG_1),
      verdict(NFT_RETURN),
    ],
    // ip6 saddr . ip6 daddr @subnet6 return
    [
      ...nfproto(NFPROTO_IPV6),
      v6saddr,
      payloadLoad(NFT_PAYLOAD_NETWORK_HEADER, 24, 16, NFT_REG_2),
      lookup(SETS[6].subnet, SET_IDS[SETS[6].subnet]!, NFT_REG_1),
      verdict(NFT_RETURN),
    ],
    // ip saddr @masq4 counter masquerade
    [...nfproto(NFPROTO_IPV4), v4saddr, lookup(SETS[4].masq, SET_IDS[SETS[4].masq]!, NFT_REG_1), counter(), masq()],
    // ip6 saddr @masq6 counter masquerade
    [...nfproto(NFPROTO_IPV6), v6saddr, lookup(SETS[6].masq, SET_IDS[SETS[6].masq]!, NFT_REG_1), counter(), masq()],
  ];
}

function setupMessages(): BatchMsg[] {
  const C = NLM_F_CREATE;
  return [
    inet(Msg.NEWTABLE, C, tableAttrs(TABLE, TABLE_COMMENT), `add table inet ${TABLE}`),
    inet(Msg.NEWCHAIN, C, natChainAttrs(TABLE, CHAIN, NF_INET_POST_ROUTING, NF_IP_PRI_NAT_SRC), `add chain ${CHAIN}`),
    inet(Msg.NEWSET, C, setAttrs(TABLE, { name: SETS[4].masq, id: SET_IDS[SETS[4].masq]!, keyType: TYPE_IPADDR, fields: [4] }), `add set ${SETS[4].masq}`),
    inet(
      Msg.NEWSET,
      C,
      setAttrs(TABLE, { name: SETS[4].subnet, id: SET_IDS[SETS[4].subnet]!, keyType: concatType(TYPE_IPADDR, TYPE_IPADDR), fields: [4, 4], interval: true }),
      `add set ${SETS[4].subnet}`,
    ),
    inet(Msg.NEWSET, C, setAttrs(TABLE, { name: SETS[6].masq, id: SET_IDS[SETS[6].masq]!, keyType: TYPE_IP6ADDR, fields: [16] }), `add set ${SETS[6].masq}`),
    inet(
      Msg.NEWSET,
      C,
      setAttrs(TABLE, { name: SETS[6].subnet, id: SET_IDS[SETS[6].subnet]!, keyType: concatType(TYPE_IP6ADDR, TYPE_IP6ADDR), fields: [16, 16], interval: true }),
      `add set ${SETS[6].subnet}`,
    ),
    inet(Msg.DELRULE, 0, flushChainAttrs(TABLE, CHAIN), `flush chain ${CHAIN}`),
    ...rules().map((exprs, i) => inet(Msg.NEWRULE, C | NLM_F_APPEND, ruleAttrs(TABLE, CHAIN, exprs), `add rule #${i + 1}`)),
  ];
}

// ---------------------------------------------------------------------------------------
// elements

function elementsFor(cidrs: readonly Cidr[], comment: string | undefined): Map<string, ElemDef[]> {
  const bySet = new Map<string, ElemDef[]>();
  const push = (set: string, e: ElemDef): void => {
    const l = bySet.get(set) ?? [];
    l.push(e);
    bySet.set(set, l);
  };
  for (const c of cidrs) {
    const sets = SETS[c.family];
    push(sets.masq, comment === undefined ? { key: c.addr } : { key: c.addr, comment });
    const e: ElemDef = { key: Buffer.concat([c.addr, c.first]), keyEnd: Buffer.concat([c.addr, c.last]) };
    if (comment !== undefined) e.comment = comment;
    push(sets.subnet, e);
  }
  return bySet;
}

function parseAddresses(addresses: readonly string[]): Cidr[] {
  if (!Array.isArray(addresses)) throw new SysError('EINVAL', 'masquerade', 'addresses must be an array of CIDRs');
  const seen = new Set<string>();
  const out: Cidr[] = [];
  for (const a of addresses) {
    const c = parseCidr(a);
    const k = `${c.text}/${c.prefix}`;
    if (seen.has(k)) continue;
    seen.add(k);
    out.push(c);
  }
  // one address with two different prefixes would make overlapping subnet elements
  const byAddr = new Map<string, number>();
  for (const c of out) {
    if (byAddr.has(c.text) && byAddr.get(c.text) !== c.prefix) {
      throw new SysError('EINVAL', `masquerade.address ${c.text}`, 'the same address is given with two prefix lengths');
    }
    byAddr.set(c.text, c.prefix);
  }
  return out;
}

/** Add the elements; with EXCL the batch fails (as a whole) with EEXIST if any of them exists. */
function addMessages(cidrs: readonly Cidr[], comment: string): BatchMsg[] {
  const out: BatchMsg[] = [];
  for (const [set, elems] of elementsFor(cidrs, comment)) {
    out.push(inet(Msg.NEWSETELEM, NLM_F_CREATE | NLM_F_EXCL, elemListAttrs(TABLE, set, elems), `add element ${set}`));
  }
  return out;
}

/** add (no-op if present) + delete + add, per set: present afterwards, with this owner's comment. */
function replaceMessages(cidrs: readonly Cidr[], comment: string): BatchMsg[] {
  const withComment = elementsFor(cidrs, comment);
  const keysOnly = elementsFor(cidrs, undefined);
  const out: BatchMsg[] = [];
  for (const [set, elems] of withComment) {
    out.push(inet(Msg.NEWSETELEM, NLM_F_CREATE, elemListAttrs(TABLE, set, elems), `add element ${set}`));
    out.push(inet(Msg.DELSETELEM, 0, elemListAttrs(TABLE, set, keysOnly.get(set)!), `delete element ${set}`));
    out.push(inet(Msg.NEWSETELEM, NLM_F_CREATE, elemListAttrs(TABLE, set, elems), `add element ${set}`));
  }
  return out;
}

/** Make sure the table, chain, sets and rules exist and are as cni-wasm wants them (idempotent). */
export function ensureMasqueradeTable(ns?: NetnsHandle): void {
  withSocket(ns, (s) => runBatch(s, setupMessages(), 'masquerade.setup'));
}

/**
 * Masquerade traffic from these container addresses. Idempotent; an element that exists
 * (a re-ADD, or an address still held by an attachment whose DEL has not run) is taken
 * over with this attachment's comment.
 *
 * Deleting set elements makes the kernel wait for an RCU grace period (~8-20 ms here)
 * when the socket is closed after the transaction, so the common case, a new address,
 * is a pure add (NLM_F_EXCL); only when that fails with EEXIST does a second batch
 * replace the elements (add + delete + add in one transaction).
 */
export function ensureMasquerade(spec: MasqueradeSpec, ns?: NetnsHandle): void {
  const cidrs = parseAddresses(spec.addresses);
  const comment = ownerComment(spec);
  if (cidrs.length === 0) return;
  const op = `masquerade.add ${spec.containerId}`;
  const is = (e: unknown, errno: string): boolean => isSysError(e) && e.errno === errno;
  withSocket(ns, (s) => {
    const state = inspect(s, cidrs, comment, op);
    if (state === 'owned') return; // a repeated ADD: nothing to change
    if (state === 'absent') {
      try {
        runBatch(s, addMessages(cidrs, comment), op);
        return;
      } catch (e) {
        if (is(e, 'ENOENT')) {
          // first use, or the table was deleted: create it together with the elements
          try {
            runBatch(s, [...setupMessages(), ...addMessages(cidrs, comment)], op);
            return;
          } catch (e2) {
            if (!is(e2, 'EEXIST')) throw e2;
          }
        } else if (!is(e, 'EEXIST')) throw e; // EEXIST: some were there after all (partial, or a race)
      }
    }
    runBatch(s, replaceMessages(cidrs, comment), op);
  });
}

/**
 * Read the elements by key (GETSETELEM, no dump): 'absent' if one is missing (or the
 * table is), 'owned' if all exist with exactly this comment, 'other' otherwise.
 * Checking first keeps failed batches off the hot path: the kernel waits for an RCU
 * grace period when it aborts a transaction.
 */
function inspect(s: NetlinkSocket, cidrs: readonly Cidr[], comment: string, op: string): 'absent' | 'owned' | 'other' {
  let state: 'owned' | 'other' = 'owned';
  for (const [set, keys] of elementsFor(cidrs, undefined)) {
    let found: ParsedElem[];
    try {
      const msgs = s.request(nftType(Msg.GETSETELEM), [nfgen(NFPROTO_INET), ...elemListAttrs(TABLE, set, keys)], 0, { op: `${op}: get element ${set}` });
      found = msgs.flatMap((m) => parseElemMessage(m.data));
    } catch (e) {
      if (isSysError(e) && e.errno === 'ENOENT') return 'absent';
      throw e;
    }
    if (found.length !== keys.length) return 'absent';
    if (found.some((f) => f.comment !== comment)) state = 'other';
  }
  return state;
}

export function getGen(s: NetlinkSocket): number {
  const msgs = s.request(nftType(Msg.GETGEN), nfgen(NFPROTO_UNSPEC), 0, { op: 'masquerade: get generation' });
  for (const m of msgs) {
    const id = parseGenId(m.data);
    if (id !== undefined) return id;
  }
  throw new SysError('EPROTO', 'masquerade: get generation', 'no generation id in the answer');
}

function dumpSet(s: NetlinkSocket, set: string): ParsedElem[] {
  try {
    const msgs = s.dump(nftType(Msg.GETSETELEM), [nfgen(NFPROTO_INET), ...elemListQuery(TABLE, set)], { op: `masquerade: list ${set}` });
    return msgs.flatMap((m) => parseElemMessage(m.data));
  } catch (e) {
    if (isSysError(e) && e.errno === 'ENOENT') return [];
    throw e;
  }
}

export interface RemoveOptions {
  /** Called between reading the sets and sending the delete batch (tests use it to race an ADD). */
  afterList?: () => void;
}

/** Delete, under a generation check, every element whose comment `select` picks. Returns how many. */
function removeWhere(ns: NetnsHandle | undefined, op: string, select: (comment: string | undefined) => boolean, opts: RemoveOptions): number {
  return withSocket(ns, (s) => {
    for (let attempt = 0; attempt < RETRIES; attempt++) {
      const gen = getGen(s);
      const msgs: BatchMsg[] = [];
      let count = 0;
      for (const set of ALL_SETS) {
        const mine = dumpSet(s, set).filter((e) => select(e.comment));
        if (mine.length === 0) continue;
        count += mine.length;
        const keys = mine.map((e): ElemDef => (e.keyEnd ? { key: e.key, keyEnd: e.keyEnd } : { key: e.key }));
        msgs.push(inet(Msg.DELSETELEM, 0, elemListAttrs(TABLE, set, keys), `delete element ${set}`));
      }
      if (msgs.length === 0) return 0;
      opts.afterList?.();
      try {
        runBatch(s, msgs, op, gen);
        return count;
      } catch (e) {
        if (isSysError(e) && e.errno === 'ERESTART') continue; // the ruleset changed meanwhile: read again
        throw e;
      }
    }
    throw new SysError('EAGAIN', op, `the ruleset kept changing; gave up after ${RETRIES} attempts`);
  }, true);
}

/** Stop masquerading for one attachment (all its interfaces if ifname is omitted). Returns elements removed. */
export function removeMasquerade(owner: MasqueradeOwner, ns?: NetnsHandle, opts: RemoveOptions = {}): number {
  const prefix = ownerPrefix(owner);
  return removeWhere(ns, `masquerade.del ${owner.containerId}`, (c) => ownedBy(c, prefix), opts);
}

/** Remove elements of `network` that belong to none of the `keep` attachments (CNI GC). */
export function gcMasquerade(network: string, keep: readonly MasqueradeOwner[], ns?: NetnsHandle, opts: RemoveOptions = {}): number {
  const net = networkToken(network);
  const keepPrefixes = keep.map((k) => ownerPrefix({ ...k, network }));
  return removeWhere(ns, `masquerade.gc ${network}`, (c) => ownedBy(c, net) && !keepPrefixes.some((p) => ownedBy(c, p)), opts);
}

/** Everything in cni-wasm's table (empty if there is no table). */
export function listMasquerade(ns?: NetnsHandle): MasqueradeEntry[] {
  return withSocket(ns, (s) => {
    const out = new Map<string, MasqueradeEntry>();
    for (const fam of [4, 6] as const) {
      const len = fam === 4 ? 4 : 16;
      const entry = (addr: Buffer, comment: string | undefined): MasqueradeEntry => {
        const address = formatAddr(addr);
        const k = `${fam}|${address}`;
        let e = out.get(k);
        if (!e) {
          e = { family: fam, address, masquerade: false };
          out.set(k, e);
        }
        if (comment !== undefined) {
          e.comment = comment;
          const t = tokenOf(comment);
          if (t) e.owner = t;
        }
        return e;
      };
      for (const el of dumpSet(s, SETS[fam].masq)) entry(el.key, el.comment).masquerade = true;
      for (const el of dumpSet(s, SETS[fam].subnet)) {
        if (el.key.length !== 2 * len || !el.keyEnd) continue;
        const first = el.key.subarray(len);
        const last = el.keyEnd.subarray(len);
        entry(el.key.subarray(0, len), el.comment).subnet = `${formatAddr(first)}/${prefixOf(first, last)}`;
      }
    }
    return [...out.values()];
  });
}

function prefixOf(first: Buffer, last: Buffer): number {
  let bits = 0;
  for (let i = 0; i < first.length; i++) {
    const diff = first[i]! ^ last[i]!;
    if (diff === 0) {
      bits += 8;
      continue;
    }
    bits += Math.clz32(diff) - 24;
    break;
  }
  return bits;
}

/** Delete cni-wasm's whole table (uninstall, tests). Idempotent. */
export function deleteMasqueradeTable(ns?: NetnsHandle): void {
  withSocket(ns, (s) => {
    try {
      runBatch(s, [inet(Msg.DELTABLE, 0, tableAttrs(TABLE).slice(0, 1), `delete table inet ${TABLE}`)], 'masquerade.uninstall');
    } catch (e) {
      if (!(isSysError(e) && e.errno === 'ENOENT')) throw e;
    }
  });
}
