// Allocation from one range set, as the reference allocator (backend/allocator/allocator.go):
//  - a requested address must lie in the set, must not be a gateway, must be free;
//  - otherwise the attachment must not hold an address of this set already ("duplicate
//    allocation"), and the next free address is taken round robin: from the address after
//    last_reserved_ip.<n> (when it is in the set) or the first range's start, range by range,
//    wrapping from a range's end to the next range's start and from the last range to the
//    first, skipping each range's gateway, until it comes back to where it started.
// The caller holds the store's lock.

import { IP } from "../../sdk/ip";
import { canonicalIP } from "../../sdk/iprange";
import { Disk } from "./disk";
import { Range, RangeSet } from "./range";

export class Allocation {
  constructor(
    public ip: IP,
    public range: Range,
  ) {}
}

export class AllocResult {
  constructor(
    public allocation: Allocation | null,
    public error: string,
  ) {}
}

function fail(msg: string): AllocResult {
  return new AllocResult(null, msg);
}

/** The reference's RangeIter. */
class RangeIter {
  rangeIdx: i32 = 0;
  cur: IP | null = null;
  startIP: IP | null = null;

  constructor(public set: RangeSet) {}

  /** The next candidate, or null when every address has been offered. */
  next(): IP | null {
    // Iterative form of the reference's recursion (it recurses to skip a gateway).
    for (;;) {
      let r = unchecked(this.set.ranges[this.rangeIdx]);
      const cur = this.cur;
      if (cur === null) {
        const first = r.start;
        this.cur = first;
        this.startIP = first;
        if (first.equals(r.gateway)) continue;
        return first;
      }
      let nxt: IP;
      if (cur.equals(r.end)) {
        this.rangeIdx = (this.rangeIdx + 1) % this.set.ranges.length;
        r = unchecked(this.set.ranges[this.rangeIdx]);
        nxt = r.start;
      } else {
        nxt = cur.next()!;
      }
      this.cur = nxt;
      const start = this.startIP;
      if (start === null) this.startIP = nxt;
      else if (nxt.equals(start)) return null;
      if (nxt.equals(r.gateway)) continue;
      return nxt;
    }
  }
}

export class Allocator {
  constructor(
    public set: RangeSet,
    public disk: Disk,
    /** Index of the range set: names last_reserved_ip.<id>. */
    public id: i32,
  ) {}

  private iter(): RangeIter {
    const it = new RangeIter(this.set);
    const last = this.disk.lastReservedIP(this.id);
    if (last !== null && this.set.contains(last)) {
      it.rangeIdx = this.set.indexOf(last);
      it.cur = canonicalIP(last);
    }
    // Otherwise the first next() starts at the first range's start.
    return it;
  }

  /** Get: an address for the attachment, or the reference's error message. */
  get(containerID: string, ifname: string, requested: IP | null): AllocResult {
    if (requested !== null) {
      const ip = canonicalIP(requested);
      const r = this.set.rangeFor(ip);
      if (r === null) return fail(ip.toString() + " not in range set " + this.set.toString());
      if (ip.equals(r.gateway)) return fail("requested ip " + ip.toString() + " is subnet's gateway");
      const got = this.disk.reserve(containerID, ifname, ip, this.id);
      if (got < 0) return fail(this.disk.error);
      if (got == 0) return fail("requested IP address " + ip.toString() + " is not available in range set " + this.set.toString());
      return new AllocResult(new Allocation(ip, r), "");
    }

    // Duplicate allocation is not allowed by the spec.
    const held = this.disk.getByID(containerID, ifname);
    for (let i = 0; i < held.length; i++) {
      const ip = unchecked(held[i]);
      if (this.set.rangeFor(ip) !== null) {
        return fail(ip.toString() + " has been allocated to " + containerID + ", duplicate allocation is not allowed");
      }
    }

    const it = this.iter();
    for (;;) {
      const ip = it.next();
      if (ip === null) break;
      const got = this.disk.reserve(containerID, ifname, ip, this.id);
      if (got < 0) return fail(this.disk.error);
      if (got > 0) return new AllocResult(new Allocation(ip, unchecked(this.set.ranges[it.rangeIdx])), "");
    }
    return fail("no IP addresses available in range set: " + this.set.toString());
  }

  /** Addresses of the set still free (not allocated, not a gateway), saturating; for STATUS. */
  free(): u64 {
    let total: u64 = 0;
    for (let i = 0; i < this.set.ranges.length; i++) {
      const r = unchecked(this.set.ranges[i]);
      let n = r.size();
      if (r.contains(r.gateway)) n--;
      total = total + n < total ? u64.MAX_VALUE : total + n;
    }
    const names = this.disk.list();
    if (names === null) return total;
    let used: u64 = 0;
    for (let i = 0; i < names.length; i++) {
      const ip = IP.parse(unchecked(names[i]));
      if (ip === null) continue;
      const r = this.set.rangeFor(ip);
      if (r !== null && !canonicalIP(ip).equals(r.gateway)) used++;
    }
    return used >= total ? 0 : total - used;
  }
}
