// A synchronous netlink socket bound to one network namespace.
//
// Every call sends, then blocks in poll()/recv() (bounded by a timeout) until the
// kernel has answered: no event loop, no Promise, so it can sit behind a synchronous
// wasm host import and can run inside a withNetns window. One call at a time per
// socket, by construction (a re-entrant call is refused), so dumps never overlap.
//
// Replies are matched by sequence number; anything else (a late reply to an
// earlier request that timed out) is dropped. NLMSG_ERROR becomes a SysError with
// the errno name and the kernel's extended-ack message.
import { SysError, errnoName, toSysError } from '../errors.ts';
import { loadNative } from '../native.ts';
import { type NetnsHandle, withNetns } from '../netns.ts';
import { enterKernel, leave } from '../../trace.ts';

export const NETLINK_ROUTE = 0;
export const NETLINK_NETFILTER = 12;

// nlmsghdr flags (linux/netlink.h)
export const NLM_F_REQUEST = 0x01;
export const NLM_F_MULTI = 0x02;
export const NLM_F_ACK = 0x04;
export const NLM_F_ECHO = 0x08;
export const NLM_F_DUMP_INTR = 0x10;
export const NLM_F_ROOT = 0x100;
export const NLM_F_MATCH = 0x200;
export const NLM_F_DUMP = NLM_F_ROOT | NLM_F_MATCH;
export const NLM_F_REPLACE = 0x100;
export const NLM_F_EXCL = 0x200;
export const NLM_F_CREATE = 0x400;
export const NLM_F_APPEND = 0x800;
// flags of an NLMSG_ERROR / NLMSG_DONE reply
const NLM_F_CAPPED = 0x100;
const NLM_F_ACK_TLVS = 0x200;

export const NLMSG_NOOP = 1;
export const NLMSG_ERROR = 2;
export const NLMSG_DONE = 3;
export const NLMSG_OVERRUN = 4;

const NLMSGERR_ATTR_MSG = 1;
const NLMSGERR_ATTR_OFFS = 2;

const HDR = 16;
const align4 = (n: number): number => (n + 3) & ~3;

/** A message as received: header fields and payload (a private copy). */
export interface NlMessage {
  type: number;
  flags: number;
  seq: number;
  port: number;
  data: Buffer;
}

/** A message to send. `payload` parts are concatenated (no padding is added between them). */
export interface OutMessage {
  type: number;
  /** NLM_F_REQUEST is always added. */
  flags?: number;
  payload: Uint8Array | readonly Uint8Array[];
}

/** What came back for one sent message. */
export interface Reply {
  seq: number;
  /** Data messages (dump parts, echoes, GET answers), without the final ACK/DONE. */
  messages: NlMessage[];
  /** The kernel's error for this message, if it failed. */
  error?: SysError;
}

export interface OpenOptions {
  /** NETLINK_ROUTE (default) or another netlink protocol, e.g. NETLINK_NETFILTER. */
  protocol?: number;
  /** SO_RCVBUF in bytes (default 1 MiB, capped by net.core.rmem_max). */
  rcvbuf?: number;
  /** How long one recv may wait for the kernel, in ms (default 10 s). */
  timeoutMs?: number;
}

export interface CallOptions {
  /** Names the operation in errors ('link.create veth0'). */
  op?: string;
  timeoutMs?: number;
}

/** Dumps that the kernel flags as interrupted (the table changed meanwhile) are retried this often. */
const DUMP_RETRIES = 5;
const RECV_BUFFER = 64 * 1024; // the kernel sends dump parts of at most 32 KiB

export class NetlinkSocket {
  /** The namespace the socket was created in (undefined: the one current at open time). */
  readonly ns: NetnsHandle | undefined;
  readonly protocol: number;
  readonly timeoutMs: number;
  #fd: number;
  #seq: number;
  #busy = false;
  readonly #buf = Buffer.allocUnsafe(RECV_BUFFER);

  private constructor(fd: number, ns: NetnsHandle | undefined, protocol: number, timeoutMs: number) {
    this.#fd = fd;
    this.ns = ns;
    this.protocol = protocol;
    this.timeoutMs = timeoutMs;
    // Start away from 0 and from other sockets' numbers, like iproute2 (seq = time).
    this.#seq = (Math.floor(Math.random() * 0x3fffffff) + 1) >>> 0;
  }

  /**
   * Open a socket in `ns` (entering it just for the socket() call), or in the current
   * namespace when `ns` is omitted. The socket stays bound to that namespace.
   */
  static open(ns?: NetnsHandle, opts: OpenOptions = {}): NetlinkSocket {
    const protocol = opts.protocol ?? NETLINK_ROUTE;
    const rcvbuf = opts.rcvbuf ?? 1024 * 1024;
    const native = loadNative();
    const make = (): number => {
      try {
        return native.nlOpen(protocol, rcvbuf);
      } catch (e) {
        throw toSysError(e, `netlink.open${ns ? ` in ${ns.path}` : ''}`);
      }
    };
    const tk = enterKernel('netlink');
    let fd: number;
    try {
      fd = ns ? withNetns(ns, make) : make();
    } finally {
      leave(tk);
    }
    return new NetlinkSocket(fd, ns, protocol, opts.timeoutMs ?? 10_000);
  }

  get closed(): boolean {
    return this.#fd < 0;
  }

  close(): void {
    if (this.#fd < 0) return;
    const fd = this.#fd;
    this.#fd = -1;
    loadNative().closeFd(fd);
  }

  /**
   * Send one request and wait for its ACK. Returns the data messages that came before
   * the ACK (the answer to a GET, or echoes). Throws SysError when the kernel refuses.
   */
  request(type: number, payload: Uint8Array | readonly Uint8Array[], flags = 0, opts: CallOptions = {}): NlMessage[] {
    const [reply] = this.transact([{ type, flags: flags | NLM_F_ACK, payload }], opts);
    if (!reply) throw new SysError('EIO', opts.op ?? 'netlink.request', 'no reply');
    if (reply.error) throw reply.error;
    return reply.messages;
  }

  /** A full dump (NLM_F_DUMP): every message until NLMSG_DONE. Retried when the kernel flags it interrupted. */
  dump(type: number, payload: Uint8Array | readonly Uint8Array[], opts: CallOptions = {}): NlMessage[] {
    for (let attempt = 0; ; attempt++) {
      const [reply] = this.transact([{ type, flags: NLM_F_DUMP, payload }], opts);
      if (!reply) throw new SysError('EIO', opts.op ?? 'netlink.dump', 'no reply');
      if (reply.error) throw reply.error;
      const interrupted = reply.messages.some((m) => (m.flags & NLM_F_DUMP_INTR) !== 0);
      if (!interrupted) return reply.messages;
      if (attempt + 1 >= DUMP_RETRIES) {
        throw new SysError('EINTR', opts.op ?? 'netlink.dump', `dump interrupted ${DUMP_RETRIES} times by concurrent changes`);
      }
    }
  }

  /**
   * Send several messages in one datagram (e.g. an nf_tables batch) and collect what
   * comes back for each. A message expects a final reply when it has NLM_F_ACK (an ACK
   * or an error) or NLM_F_DUMP (NLMSG_DONE); the call returns when all have arrived.
   * A message without either gets a Reply only if the kernel sent an error for it.
   * Results are in the order of `msgs`.
   */
  transact(msgs: readonly OutMessage[], opts: CallOptions = {}): Reply[] {
    const op = opts.op ?? 'netlink';
    if (this.#fd < 0) throw new SysError('EBADF', op, 'netlink socket is closed');
    if (this.#busy) throw new SysError('EBUSY', op, 'netlink socket is in use by another call (re-entrant call refused)');
    this.#busy = true;
    try {
      return this.#transact(msgs, op, opts.timeoutMs ?? this.timeoutMs);
    } finally {
      this.#busy = false;
    }
  }

  #nextSeq(): number {
    this.#seq = (this.#seq + 1) >>> 0;
    if (this.#seq === 0) this.#seq = 1;
    return this.#seq;
  }

  #transact(msgs: readonly OutMessage[], op: string, timeoutMs: number): Reply[] {
    const native = loadNative();
    const replies = new Map<number, Reply>();
    const pending = new Set<number>(); // seqs still waiting for their final reply
    const parts: Uint8Array[] = [];
    const order: number[] = [];
    for (const m of msgs) {
      const seq = this.#nextSeq();
      const flags = (m.flags ?? 0) | NLM_F_REQUEST;
      const payload = m.payload instanceof Uint8Array ? [m.payload] : m.payload;
      let plen = 0;
      for (const p of payload) plen += p.length;
      const hdr = Buffer.alloc(HDR);
      hdr.writeUInt32LE(HDR + plen, 0);
      hdr.writeUInt16LE(m.type, 4);
      hdr.writeUInt16LE(flags, 6);
      hdr.writeUInt32LE(seq, 8);
      hdr.writeUInt32LE(0, 12); // the kernel fills in our port
      parts.push(hdr, ...payload);
      const pad = align4(plen) - plen;
      if (pad) parts.push(Buffer.alloc(pad));
      order.push(seq);
      replies.set(seq, { seq, messages: [] });
      if (flags & (NLM_F_ACK | NLM_F_DUMP)) pending.add(seq);
    }
    const buf = Buffer.concat(parts);
    const ts = enterKernel('netlink');
    try {
      native.nlSend(this.#fd, buf);
    } catch (e) {
      throw toSysError(e, op);
    } finally {
      leave(ts);
    }

    // The kernel handles a request inside sendmsg(): by now every ACK/error is queued.
    // An error for a message that asked for no reply means the rest may not come either
    // (a batch the kernel refused as a whole): then only drain what is already queued.
    let unexpectedError = false;
    while (pending.size > 0) {
      let n: number;
      const tr = enterKernel('netlink');
      try {
        n = native.nlRecv(this.#fd, this.#buf, unexpectedError ? 0 : timeoutMs);
      } catch (e) {
        if (unexpectedError && (e as { code?: string }).code === 'ETIMEDOUT') break;
        throw toSysError(e, op);
      } finally {
        leave(tr);
      }
      const list = parseMessages(Buffer.from(this.#buf.subarray(0, n)), op);
      for (const m of list) {
        const r = replies.get(m.seq);
        if (!r) continue; // stale: a late answer to an earlier call
        if (m.type === NLMSG_NOOP) continue;
        if (m.type === NLMSG_OVERRUN) throw new SysError('ENOBUFS', op, 'netlink overrun: the kernel dropped part of the answer');
        if (m.type === NLMSG_ERROR) {
          const { errno, extack } = parseErrorPayload(m.data, m.flags);
          if (errno !== 0) r.error = kernelError(op, errno, extack);
          if (!pending.delete(m.seq) && errno !== 0) unexpectedError = true;
          continue;
        }
        if (m.type === NLMSG_DONE) {
          const { errno, extack } = parseDonePayload(m.data, m.flags);
          if (errno !== 0) r.error = kernelError(op, errno, extack);
          pending.delete(m.seq);
          continue;
        }
        r.messages.push(m);
      }
    }
    const out: Reply[] = [];
    for (const seq of order) {
      const r = replies.get(seq);
      if (r) out.push(r);
    }
    return out;
  }
}

/**
 * Split one datagram into messages (nlmsghdr: u32 len, u16 type, u16 flags, u32 seq,
 * u32 port). Done here rather than with the netlink package so that the socket layer,
 * which sysctl and nf_tables load too, stays free of the package's 300 KB of codecs.
 */
function parseMessages(b: Buffer, op: string): NlMessage[] {
  const out: NlMessage[] = [];
  let off = 0;
  while (off + HDR <= b.length) {
    const len = b.readUInt32LE(off);
    if (len < HDR || off + len > b.length) {
      throw new SysError('EPROTO', op, `malformed netlink reply: message length ${len} at offset ${off} of ${b.length}`);
    }
    out.push({
      type: b.readUInt16LE(off + 4),
      flags: b.readUInt16LE(off + 6),
      seq: b.readUInt32LE(off + 8),
      port: b.readUInt32LE(off + 12),
      data: b.subarray(off + HDR, off + len),
    });
    off += align4(len);
  }
  return out;
}

function kernelError(op: string, errno: number, extack: string | undefined): SysError {
  const name = errnoName(errno);
  return new SysError(name, op, undefined, extack ? { extack, errnoNumber: Math.abs(errno) } : { errnoNumber: Math.abs(errno) });
}

interface ErrPayload {
  errno: number;
  extack?: string;
  offset?: number;
}

/** struct nlmsgerr { int error; struct nlmsghdr msg; [payload unless capped] } then TLVs. */
function parseErrorPayload(d: Buffer, flags: number): ErrPayload {
  if (d.length < 4) return { errno: -71 }; // EPROTO
  const errno = d.readInt32LE(0);
  if (!(flags & NLM_F_ACK_TLVS) || d.length < 4 + HDR) return { errno };
  const origLen = d.readUInt32LE(4);
  const skip = 4 + (flags & NLM_F_CAPPED ? HDR : align4(origLen));
  return { errno, ...parseExtack(d.subarray(skip)) };
}

/** NLMSG_DONE: int error, then TLVs. */
function parseDonePayload(d: Buffer, flags: number): ErrPayload {
  if (d.length < 4) return { errno: 0 };
  const errno = d.readInt32LE(0);
  if (!(flags & NLM_F_ACK_TLVS)) return { errno };
  return { errno, ...parseExtack(d.subarray(4)) };
}

function parseExtack(tlv: Buffer): { extack?: string; offset?: number } {
  const out: { extack?: string; offset?: number } = {};
  let off = 0;
  while (off + 4 <= tlv.length) {
    const len = tlv.readUInt16LE(off);
    const type = tlv.readUInt16LE(off + 2) & 0x3fff;
    if (len < 4 || off + len > tlv.length) break;
    const v = tlv.subarray(off + 4, off + len);
    if (type === NLMSGERR_ATTR_MSG) {
      const end = v.indexOf(0);
      out.extack = v.toString('utf8', 0, end < 0 ? v.length : end);
    } else if (type === NLMSGERR_ATTR_OFFS && v.length >= 4) {
      out.offset = v.readUInt32LE(0);
    }
    off += align4(len);
  }
  return out;
}
