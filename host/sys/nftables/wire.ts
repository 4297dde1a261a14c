// nf_tables over NETLINK_NETFILTER: message types, attribute numbers (linux/netfilter/
// nf_tables.h, nfnetlink.h) and encoders for the few objects cni-wasm creates: a table,
// a NAT base chain, sets, rules made of expressions, and set elements.
// nf_tables integers are big-endian; nested attributes carry NLA_F_NESTED like nft's.
import { attr, nest, parseAttrList, readStr, str } from '../netlink/attrs.ts';

export const NFNL_SUBSYS_NFTABLES = 10;
export const NFNL_MSG_BATCH_BEGIN = 0x10;
export const NFNL_MSG_BATCH_END = 0x11;
export const NFNL_BATCH_GENID = 1;

export const NFPROTO_UNSPEC = 0;
export const NFPROTO_INET = 1;
export const NFPROTO_IPV4 = 2;
export const NFPROTO_IPV6 = 10;
export const NFPROTO_BRIDGE = 7;

export const Msg = {
  NEWTABLE: 0,
  GETTABLE: 1,
  DELTABLE: 2,
  NEWCHAIN: 3,
  GETCHAIN: 4,
  DELCHAIN: 5,
  NEWRULE: 6,
  GETRULE: 7,
  DELRULE: 8,
  NEWSET: 9,
  GETSET: 10,
  DELSET: 11,
  NEWSETELEM: 12,
  GETSETELEM: 13,
  DELSETELEM: 14,
  NEWGEN: 15,
  GETGEN: 16,
} as const;
export type Msg = (typeof Msg)[keyof typeof Msg];

/** nlmsg_type of an nf_tables message. */
export const nftType = (m: Msg): number => (NFNL_SUBSYS_NFTABLES << 8) | m;

const TABLE_NAME = 1;
const TABLE_FLAGS = 2;
const TABLE_USERDATA = 6;
const CHAIN_TABLE = 1;
const CHAIN_NAME = 3;
const CHAIN_HOOK = 4;
const CHAIN_POLICY = 5;
const CHAIN_TYPE = 7;
const HOOK_HOOKNUM = 1;
const HOOK_PRIORITY = 2;
const RULE_TABLE = 1;
const RULE_CHAIN = 2;
const RULE_HANDLE = 3;
const RULE_EXPRESSIONS = 4;
const RULE_USERDATA = 7;
const LIST_ELEM = 1;
const EXPR_NAME = 1;
const EXPR_DATA = 2;
const DATA_VALUE = 1;
const DATA_VERDICT = 2;
const VERDICT_CODE = 1;
const SET_TABLE = 1;
const SET_NAME = 2;
const SET_FLAGS = 3;
const SET_KEY_TYPE = 4;
const SET_KEY_LEN = 5;
const SET_DESC = 9;
const SET_ID = 10;
const SET_USERDATA = 13;
const SET_DESC_CONCAT = 2;
const SET_FIELD_LEN = 1;
const ELEM_LIST_TABLE = 1;
const ELEM_LIST_SET = 2;
const ELEM_LIST_ELEMENTS = 3;
const ELEM_KEY = 1;
const ELEM_FLAGS = 3;
const ELEM_USERDATA = 6;
const ELEM_KEY_END = 10;
export const GEN_ID = 1;

export const NF_INET_POST_ROUTING = 4;
export const NF_IP_PRI_NAT_SRC = 100;
export const NF_DROP = 0;
export const NF_ACCEPT = 1;
/** Bridge family: the prerouting hook and the priority the reference's MAC spoof check uses (dstnat of bridged frames). */
export const NF_BR_PRE_ROUTING = 0;
export const NF_BR_PRI_NAT_DST_BRIDGED = -300;
export const NFT_RETURN = -5;
export const NFT_SET_INTERVAL = 0x4;
export const NFT_SET_CONCAT = 0x80;
/** nft's datatype numbers, so that `nft list` prints the keys as addresses. */
export const TYPE_IPADDR = 7;
export const TYPE_IP6ADDR = 8;
const TYPE_BITS = 6;
export const concatType = (...types: number[]): number => types.reduce((acc, t) => (acc << TYPE_BITS) | t, 0);

// userdata TLVs (libnftnl's udata: u8 type, u8 len, value) as nft writes and reads them
const UDATA_TABLE_COMMENT = 0;
const UDATA_SET_KEYBYTEORDER = 0;
const UDATA_RULE_COMMENT = 0;
const UDATA_SET_ELEM_COMMENT = 0;
const BYTEORDER_BIG_ENDIAN = 2;
/** nft refuses comments longer than this; the kernel caps userdata at 256 bytes. */
export const COMMENT_MAX = 128;

export const NFT_META_IIFNAME = 6;
export const NFT_META_NFPROTO = 15;
export const NFT_PAYLOAD_LL_HEADER = 0;
export const NFT_PAYLOAD_NETWORK_HEADER = 1;
export const NFT_CMP_EQ = 0;
export const NFT_CMP_NEQ = 1;
export const NFT_REG_VERDICT = 0;
export const NFT_REG_1 = 1;
export const NFT_REG_2 = 2;
export const NFT_REG32_01 = 9;

// ---------------------------------------------------------------------------------------
// primitives

export function be32(type: number, v: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(v >>> 0, 0);
  return attr(type, b);
}

const N = (type: number, children: readonly Uint8Array[]): Buffer => nest(type, children, true);

/** struct nfgenmsg { u8 family; u8 version; be16 res_id }. */
export function nfgen(family: number, resId = 0): Buffer {
  const b = Buffer.alloc(4);
  b[0] = family;
  b.writeUInt16BE(resId, 2);
  return b;
}

function udataComment(type: number, text: string): Buffer {
  const v = Buffer.from(`${text}\0`, 'utf8');
  if (v.length > 255) throw new RangeError('comment too long');
  return Buffer.concat([Buffer.of(type, v.length), v]);
}

/** Cut a comment to COMMENT_MAX bytes without splitting a UTF-8 character. */
export function clampComment(text: string): string {
  let b = Buffer.from(text, 'utf8');
  if (b.length <= COMMENT_MAX) return text;
  b = b.subarray(0, COMMENT_MAX);
  let s = b.toString('utf8');
  while (Buffer.byteLength(s) > COMMENT_MAX || s.endsWith('\uFFFD')) s = s.slice(0, -1);
  return s;
}

// ---------------------------------------------------------------------------------------
// objects

export function tableAttrs(table: string, comment?: string): Buffer[] {
  const a = [str(TABLE_NAME, table), be32(TABLE_FLAGS, 0)];
  if (comment) a.push(attr(TABLE_USERDATA, udataComment(UDATA_TABLE_COMMENT, comment)));
  return a;
}

export function natChainAttrs(table: string, chain: string, hook: number, priority: number): Buffer[] {
  return baseChainAttrs(table, chain, 'nat', hook, priority);
}

/** A base chain of `type` (nat, filter) on `hook` at `priority`, policy accept. */
export function baseChainAttrs(table: string, chain: string, type: string, hook: number, priority: number): Buffer[] {
  return [
    str(CHAIN_TABLE, table),
    str(CHAIN_NAME, chain),
    str(CHAIN_TYPE, type),
    be32(CHAIN_POLICY, NF_ACCEPT),
    N(CHAIN_HOOK, [be32(HOOK_HOOKNUM, hook), be32(HOOK_PRIORITY, priority)]),
  ];
}

export interface SetDef {
  name: string;
  id: number;
  keyType: number;
  /** Field lengths in bytes; more than one makes a concatenation. */
  fields: number[];
  interval?: boolean;
}

export function setAttrs(table: string, s: SetDef): Buffer[] {
  const concat = s.fields.length > 1;
  let flags = s.interval ? NFT_SET_INTERVAL : 0;
  if (concat) flags |= NFT_SET_CONCAT;
  const keyLen = s.fields.reduce((a, f) => a + ((f + 3) & ~3), 0);
  const a = [
    str(SET_TABLE, table),
    str(SET_NAME, s.name),
    be32(SET_FLAGS, flags),
    be32(SET_KEY_TYPE, s.keyType),
    be32(SET_KEY_LEN, keyLen),
    be32(SET_ID, s.id),
  ];
  if (concat) a.push(N(SET_DESC, [N(SET_DESC_CONCAT, s.fields.map((f) => N(LIST_ELEM, [be32(SET_FIELD_LEN, f)])))]));
  else {
    const bo = Buffer.alloc(4);
    bo.writeUInt32LE(BYTEORDER_BIG_ENDIAN, 0); // libnftnl stores this u32 in host order
    a.push(attr(SET_USERDATA, Buffer.concat([Buffer.of(UDATA_SET_KEYBYTEORDER, 4), bo])));
  }
  return a;
}

/** Flush a chain: DELRULE naming only the chain deletes all its rules. */
export function flushChainAttrs(table: string, chain: string): Buffer[] {
  return [str(RULE_TABLE, table), str(RULE_CHAIN, chain)];
}

export function ruleAttrs(table: string, chain: string, exprs: readonly Buffer[], comment?: string): Buffer[] {
  const a = [str(RULE_TABLE, table), str(RULE_CHAIN, chain), N(RULE_EXPRESSIONS, exprs)];
  if (comment) a.push(attr(RULE_USERDATA, udataComment(UDATA_RULE_COMMENT, comment)));
  return a;
}

/** DELRULE of one rule by its handle. */
export function ruleHandleAttrs(table: string, chain: string, handle: bigint): Buffer[] {
  const h = Buffer.alloc(8);
  h.writeBigUInt64BE(handle, 0);
  return [str(RULE_TABLE, table), str(RULE_CHAIN, chain), attr(RULE_HANDLE, h)];
}

export interface ElemDef {
  key: Buffer;
  keyEnd?: Buffer;
  comment?: string;
  flags?: number;
}

function elemAttr(e: ElemDef): Buffer {
  const a = [N(ELEM_KEY, [attr(DATA_VALUE, e.key)])];
  if (e.keyEnd) a.push(N(ELEM_KEY_END, [attr(DATA_VALUE, e.keyEnd)]));
  if (e.flags) a.push(be32(ELEM_FLAGS, e.flags));
  if (e.comment) a.push(attr(ELEM_USERDATA, udataComment(UDATA_SET_ELEM_COMMENT, e.comment)));
  return N(LIST_ELEM, a);
}

export function elemListAttrs(table: string, set: string, elems: readonly ElemDef[]): Buffer[] {
  return [str(ELEM_LIST_TABLE, table), str(ELEM_LIST_SET, set), N(ELEM_LIST_ELEMENTS, elems.map(elemAttr))];
}

export function elemListQuery(table: string, set: string): Buffer[] {
  return [str(ELEM_LIST_TABLE, table), str(ELEM_LIST_SET, set)];
}

// ---------------------------------------------------------------------------------------
// expressions

function expr(name: string, data?: readonly Buffer[]): Buffer {
  const a = [str(EXPR_NAME, name)];
  if (data) a.push(N(EXPR_DATA, data));
  return N(LIST_ELEM, a);
}

export const metaLoad = (key: number, dreg: number): Buffer => expr('meta', [be32(2 /* KEY */, key), be32(1 /* DREG */, dreg)]);

export const cmpEq = (sreg: number, data: Buffer): Buffer =>
  expr('cmp', [be32(1 /* SREG */, sreg), be32(2 /* OP */, NFT_CMP_EQ), N(3 /* DATA */, [attr(DATA_VALUE, data)])]);

export const payloadLoad = (base: number, offset: number, len: number, dreg: number): Buffer =>
  expr('payload', [be32(1 /* DREG */, dreg), be32(2 /* BASE */, base), be32(3 /* OFFSET */, offset), be32(4 /* LEN */, len)]);

export const bitwiseMask = (reg: number, mask: Buffer): Buffer =>
  expr('bitwise', [
    be32(1 /* SREG */, reg),
    be32(2 /* DREG */, reg),
    be32(3 /* LEN */, mask.length),
    N(4 /* MASK */, [attr(DATA_VALUE, mask)]),
    N(5 /* XOR */, [attr(DATA_VALUE, Buffer.alloc(mask.length))]),
  ]);

export const cmpNeq = (sreg: number, data: Buffer): Buffer =>
  expr('cmp', [be32(1 /* SREG */, sreg), be32(2 /* OP */, NFT_CMP_NEQ), N(3 /* DATA */, [attr(DATA_VALUE, data)])]);

export const lookup = (set: string, setId: number, sreg: number): Buffer =>
  expr('lookup', [str(1 /* SET */, set), be32(2 /* SREG */, sreg), be32(4 /* SET_ID */, setId)]);

export const verdict = (code: number): Buffer =>
  expr('immediate', [be32(1 /* DREG */, NFT_REG_VERDICT), N(2 /* DATA */, [N(DATA_VERDICT, [be32(VERDICT_CODE, code)])])]);

export const counter = (): Buffer => expr('counter', []);
export const masq = (): Buffer => expr('masq');

// ---------------------------------------------------------------------------------------
// parsing what the kernel sends back

export interface ParsedElem {
  key: Buffer;
  keyEnd?: Buffer;
  flags: number;
  comment?: string;
}

function dataValue(b: Buffer | undefined): Buffer | undefined {
  if (!b) return undefined;
  for (const a of parseAttrList(b)) if (a.type === DATA_VALUE) return Buffer.from(a.data);
  return undefined;
}

function udataString(b: Buffer | undefined, type: number): string | undefined {
  if (!b) return undefined;
  for (let off = 0; off + 2 <= b.length; ) {
    const t = b[off]!;
    const len = b[off + 1]!;
    if (off + 2 + len > b.length) break;
    if (t === type) return readStr(b.subarray(off + 2, off + 2 + len));
    off += 2 + len;
  }
  return undefined;
}

/** Elements of one NEWSETELEM message (payload after nfgenmsg). */
export function parseElemMessage(data: Buffer): ParsedElem[] {
  const out: ParsedElem[] = [];
  for (const top of parseAttrList(data.subarray(4))) {
    if (top.type !== ELEM_LIST_ELEMENTS) continue;
    for (const el of parseAttrList(top.data)) {
      if (el.type !== LIST_ELEM) continue;
      const m = new Map<number, Buffer>();
      for (const a of parseAttrList(el.data)) m.set(a.type, a.data);
      const key = dataValue(m.get(ELEM_KEY));
      if (!key) continue;
      const e: ParsedElem = { key, flags: m.get(ELEM_FLAGS)?.readUInt32BE(0) ?? 0 };
      const keyEnd = dataValue(m.get(ELEM_KEY_END));
      if (keyEnd) e.keyEnd = keyEnd;
      const comment = udataString(m.get(ELEM_USERDATA), UDATA_SET_ELEM_COMMENT);
      if (comment !== undefined) e.comment = comment;
      out.push(e);
    }
  }
  return out;
}

/** NFTA_GEN_ID of a NEWGEN message. */
export function parseGenId(data: Buffer): number | undefined {
  for (const a of parseAttrList(data.subarray(4))) if (a.type === GEN_ID && a.data.length >= 4) return a.data.readUInt32BE(0);
  return undefined;
}

export interface ParsedRule {
  chain?: string;
  handle: bigint;
  comment?: string;
}

/** One NEWRULE message of a rule dump (payload after nfgenmsg). */
export function parseRuleMessage(data: Buffer): ParsedRule | undefined {
  const m = new Map<number, Buffer>();
  for (const a of parseAttrList(data.subarray(4))) m.set(a.type, a.data);
  const h = m.get(RULE_HANDLE);
  if (!h || h.length < 8) return undefined;
  const r: ParsedRule = { handle: h.readBigUInt64BE(0) };
  const chain = readStr(m.get(RULE_CHAIN));
  if (chain !== undefined) r.chain = chain;
  const comment = udataString(m.get(RULE_USERDATA), UDATA_RULE_COMMENT);
  if (comment !== undefined) r.comment = comment;
  return r;
}
