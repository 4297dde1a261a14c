// The reference host-local's on-disk format (plugins/ipam/host-local/backend/disk/backend.go),
// through the host's `store` (one directory <dataDir>/<network>, flock on its `lock` file,
// create-exclusive, atomic replace), so that the reference and this plugin can share a node:
//
//   <ip>                  one per allocated address, named by Go's net.IP.String(), holding
//                         "<containerID>\r\n<ifname>" (containerID white-space trimmed); files
//                         of older versions hold the container ID alone ("legacy")
//   last_reserved_ip.<n>  the last address allocated from range set n (no newline)
//   lock                  taken (flock LOCK_EX) around every read-modify-write
//
// The directory is read once per invocation under the lock and kept in memory: while the lock
// is held nobody else changes it (the reference takes the same lock), and this plugin's own
// changes update the copy. Contents are read at most once each.

import { HostError, HostErrorTag, store } from "../../sdk/generated/bindings";
import { trimSpace } from "../../sdk/gostrings";
import { IP } from "../../sdk/ip";

export const LINE_BREAK = "\r\n";
export const LAST_IP_PREFIX = "last_reserved_ip.";

/** A host error as message text (a missing capability keeps its "permission-denied:" prefix). */
export function hostErrorText(e: HostError): string {
  return e.tag == HostErrorTag.PermissionDenied ? e.toString() : e.val;
}

export function isLastIPFile(name: string): bool {
  return name.startsWith(LAST_IP_PREFIX);
}

/** What an allocation file holds for this attachment. */
export function ownerKey(id: string, ifname: string): string {
  return trimSpace(id) + LINE_BREAK + ifname;
}

export class Disk {
  /** The last failure's message; "" when none. */
  error: string = "";
  /** The last failure was the lock still held by someone else after the wait (try again). */
  transient: bool = false;
  private names: Array<string> | null = null;
  private present: Set<string> = new Set<string>();
  private contents: Map<string, string> = new Map<string, string>();
  private locked: bool = false;

  private failed(e: HostError): bool {
    this.error = hostErrorText(e);
    return false;
  }

  /** Opens <dataDir>/<network> (created when missing); dataDir "" = the host's default. */
  open(dataDir: string): bool {
    const r = store.open(dataDir.length > 0 ? dataDir : null);
    if (r.isErr) return this.failed(r.error);
    return true;
  }

  lock(): bool {
    const r = store.lock();
    if (r.isErr) {
      // The host waits for the lock within the call's budget; a timeout is transient.
      if (r.error.tag == HostErrorTag.Io && r.error.val.indexOf("ETIMEDOUT") >= 0) this.transient = true;
      return this.failed(r.error);
    }
    this.locked = true;
    return true;
  }

  unlock(): void {
    if (!this.locked) return;
    this.locked = false;
    store.unlock();
    this.names = null; // the directory may change once the lock is gone
    this.contents.clear();
  }

  /** The directory's entries (files; not `lock`), sorted; null on error. */
  list(): Array<string> | null {
    const have = this.names;
    if (have !== null) return have;
    const r = store.entries();
    if (r.isErr) {
      this.failed(r.error);
      return null;
    }
    const names = r.value;
    this.present.clear();
    for (let i = 0; i < names.length; i++) this.present.add(unchecked(names[i]));
    this.names = names;
    return names;
  }

  has(name: string): bool {
    return this.present.has(name);
  }

  /** A file's content; null when it is absent or unreadable (error set for the latter). */
  read(name: string): string | null {
    if (this.contents.has(name)) return this.contents.get(name);
    const r = store.read(name);
    if (r.isErr) {
      this.failed(r.error);
      return null;
    }
    const v = r.value;
    if (v !== null) this.contents.set(name, v);
    return v;
  }

  /**
   * Reserve: create <ip> for the attachment unless it exists, then record it in
   * last_reserved_ip.<rangeID>. 1 = reserved, 0 = taken, -1 = error.
   */
  reserve(id: string, ifname: string, ip: IP, rangeID: i32): i32 {
    const name = ip.toString();
    if (this.present.has(name)) return 0;
    const data = ownerKey(id, ifname);
    const r = store.createExclusive(name, data);
    if (r.isErr) {
      this.failed(r.error);
      return -1;
    }
    if (!r.value) {
      // Someone made it without the lock (or it is not a regular file): taken.
      this.note(name, null);
      return 0;
    }
    this.note(name, data);
    const lastName = LAST_IP_PREFIX + rangeID.toString();
    const w = store.replace(lastName, name);
    if (w.isErr) {
      this.failed(w.error);
      return -1;
    }
    this.note(lastName, name);
    return 1;
  }

  private note(name: string, data: string | null): void {
    const names = this.names;
    if (names !== null && !this.present.has(name)) {
      // Keep name order (filepath.Walk's lexical order, which decides what is met first).
      names.push(name);
      let at = names.length - 1;
      while (at > 0 && unchecked(names[at - 1]) > name) {
        unchecked((names[at] = names[at - 1]));
        at--;
      }
      unchecked((names[at] = name));
    }
    this.present.add(name);
    if (data !== null) this.contents.set(name, data);
  }

  /** Removes a file; false when it could not be removed (error set) or was gone. */
  remove(name: string): bool {
    const r = store.remove(name);
    if (r.isErr) return this.failed(r.error);
    this.present.delete(name);
    this.contents.delete(name);
    const names = this.names;
    if (names !== null) {
      const i = names.indexOf(name);
      if (i >= 0) names.splice(i, 1);
    }
    return r.value;
  }

  /** Proves the directory writable: creates and removes `name` (a name that is never an address). */
  probeWritable(name: string): bool {
    const a = store.remove(name); // a leftover of an interrupted probe
    if (a.isErr) return this.failed(a.error);
    const b = store.createExclusive(name, "");
    if (b.isErr) return this.failed(b.error);
    const c = store.remove(name);
    if (c.isErr) return this.failed(c.error);
    return true;
  }

  /** The address in last_reserved_ip.<rangeID>, as Go's ParseIP reads it (no trimming); or null. */
  lastReservedIP(rangeID: i32): IP | null {
    const text = this.read(LAST_IP_PREFIX + rangeID.toString());
    this.error = ""; // the reference only logs a failure to read it
    if (text === null) return null;
    return IP.parse(text);
  }

  /**
   * Names of the files whose trimmed content is `match` (never last_reserved_ip.*); null when
   * the directory cannot be listed.
   */
  private matching(match: string): Array<string> | null {
    const names = this.list();
    if (names === null) return null;
    const out = new Array<string>();
    for (let i = 0; i < names.length; i++) {
      const name = unchecked(names[i]);
      if (isLastIPFile(name)) continue;
      const c = this.read(name);
      if (c === null) continue;
      if (trimSpace(c) == match) out.push(name);
    }
    this.error = "";
    return out;
  }

  /**
   * ReleaseByID: removes the attachment's files; when there are none, the files of an older
   * version that hold the container ID alone. False only when the directory cannot be listed.
   */
  releaseByID(id: string, ifname: string): bool {
    let found = this.matching(ownerKey(id, ifname));
    if (found === null) return false;
    if (found.length == 0) {
      found = this.matching(trimSpace(id));
      if (found === null) return false;
    }
    for (let i = 0; i < found.length; i++) this.remove(unchecked(found[i]));
    this.error = "";
    return true;
  }

  /** GetByID: the addresses held by the attachment (either format), in name order. */
  getByID(id: string, ifname: string): Array<IP> {
    const out = new Array<IP>();
    const names = this.list();
    if (names === null) return out;
    const key = ownerKey(id, ifname);
    const old = trimSpace(id);
    for (let i = 0; i < names.length; i++) {
      const name = unchecked(names[i]);
      if (isLastIPFile(name)) continue;
      const ip = IP.parse(name);
      if (ip === null) continue;
      const c = this.read(name);
      if (c === null) continue;
      const t = trimSpace(c);
      if (t == key || t == old) out.push(ip);
    }
    this.error = "";
    return out;
  }

  /** FindByID: whether the attachment holds any file (either format). */
  findByID(id: string, ifname: string): bool {
    const a = this.matching(ownerKey(id, ifname));
    if (a === null) return false;
    if (a.length > 0) return true;
    const b = this.matching(trimSpace(id));
    return b !== null && b.length > 0;
  }
}
