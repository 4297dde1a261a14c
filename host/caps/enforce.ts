// The checks the host API makes on every call, against the capabilities a plugin holds in
// this invocation (its manifest, resolved, within its grant). A refused call throws
// PermissionDenied whose message starts with the capability it lacks:
//   links.host: may not change host link "eth0"
// The host API turns it into the WIT error `permission-denied` and the audit log writes
// it at warn. Nothing here touches the kernel: callers look links up and pass the facts.
import type { LinkKind, ResolvedCapabilities } from './manifest.ts';
import { type Attachment, type MarkOwner, attachmentMark, networkMark, parseMark } from './marks.ts';
import { globMatch, keyMatchParts, normalizeRoot, pathWithin } from './pattern.ts';
import { formatSysctlKey, parseSysctlKey } from '../sys/sysctl.ts';

export type Ns = 'host' | 'container';

/**
 * The CNI error code for a denial reported through an interface whose error type is
 * cni-error rather than host-error (ipam): after the runtime's 100-104; the message
 * starts with "permission-denied: " and names the capability.
 */
export const PERMISSION_DENIED_CODE = 105;

/** A call outside the plugin's capabilities. */
export class PermissionDenied extends Error {
  /** The capability that was missing, e.g. "links.host". */
  readonly capability: string;
  constructor(capability: string, what: string) {
    super(`${capability}: ${what}`);
    this.name = 'PermissionDenied';
    this.capability = capability;
  }
}

export function isPermissionDenied(e: unknown): e is PermissionDenied {
  return e instanceof PermissionDenied;
}

/** What the checks need to know about a host link. */
export interface LinkFacts {
  name: string;
  alias?: string | undefined;
}

export interface EnforcerContext extends MarkOwner {
  /** This invocation's attachment (undefined for GC and STATUS, which have none). */
  attachment?: Attachment | undefined;
  /**
   * GC only: the attachments still valid (`cni.dev/valid-attachments`). Links marked for an
   * attachment of this plugin and network that is not among them may be changed (removed).
   */
  gcValid?: readonly Attachment[] | undefined;
}

export type HostLinkAccess = 'change' | 'read' | 'none';

export class Enforcer {
  readonly caps: ResolvedCapabilities;
  readonly ctx: EnforcerContext;
  readonly networkMark: string;
  readonly attachmentMark: string | undefined;

  constructor(caps: ResolvedCapabilities, ctx: EnforcerContext) {
    this.caps = caps;
    this.ctx = ctx;
    this.networkMark = networkMark(ctx);
    this.attachmentMark = ctx.attachment ? attachmentMark(ctx, ctx.attachment) : undefined;
  }

  // ---------- host links

  /** Was the link created by this plugin for this network (or this attachment)? */
  ownsLink(link: LinkFacts): boolean {
    const a = link.alias;
    if (a === undefined || a === '') return false;
    if (a === this.networkMark) return true;
    if (this.attachmentMark !== undefined && a === this.attachmentMark) return true;
    if (this.ctx.gcValid) {
      const m = parseMark(a);
      if (m?.attachment && m.plugin === this.ctx.plugin && m.network === this.ctx.network) {
        const at = m.attachment;
        return !this.ctx.gcValid.some((v) => v.containerId === at.containerId && v.ifname === at.ifname);
      }
    }
    return false;
  }

  hostLinkAccess(link: LinkFacts): HostLinkAccess {
    if (this.ownsLink(link) || this.caps.linksHost.some((p) => globMatch(p.glob, link.name))) return 'change';
    if (this.caps.linksRead.some((p) => globMatch(p.glob, link.name))) return 'read';
    return 'none';
  }

  canReadHostLink(link: LinkFacts): boolean {
    return this.hostLinkAccess(link) !== 'none';
  }

  requireHostLinkRead(link: LinkFacts): void {
    if (this.hostLinkAccess(link) === 'none') {
      throw new PermissionDenied('links.read', `may not read host link ${JSON.stringify(link.name)} (neither created by this plugin for this network nor granted)`);
    }
  }

  requireHostLinkChange(link: LinkFacts, what = 'change'): void {
    const access = this.hostLinkAccess(link);
    if (access === 'change') return;
    const why = access === 'read' ? 'it is read-only (links.read)' : 'neither created by this plugin for this network nor granted';
    throw new PermissionDenied('links.host', `may not ${what} host link ${JSON.stringify(link.name)}: ${why}`);
  }

  /** Renaming a host link: allowed for links the plugin owns; a link granted by name keeps a granted name. */
  requireHostRename(link: LinkFacts, newName: string): void {
    this.requireHostLinkChange(link, 'rename');
    if (this.ownsLink(link)) return;
    if (!this.caps.linksHost.some((p) => globMatch(p.glob, newName))) {
      throw new PermissionDenied('links.host', `may not rename host link ${JSON.stringify(link.name)} to ${JSON.stringify(newName)}: the new name is not granted`);
    }
  }

  /** Host-namespace routes go through a device the plugin may change, and need routes.host. */
  requireHostRoutes(what: string): void {
    if (!this.caps.hostRoutes) throw new PermissionDenied('routes.host', `may not ${what} in the host namespace`);
  }

  // ---------- creating links

  requireCreate(kind: LinkKind): void {
    if (!this.caps.create.has(kind)) throw new PermissionDenied('links.create', `may not create a ${JSON.stringify(kind)} link`);
  }

  // ---------- the container namespace

  requireContainer(what: string): void {
    if (!this.caps.container) throw new PermissionDenied('links.container', `may not ${what} in the container namespace`);
  }

  // ---------- sysctl

  /** Check a key against the namespace's patterns; returns the canonical dotted key. Invalid keys are the sys layer's to refuse. */
  requireSysctl(ns: Ns, key: string, write: boolean): void {
    let parts: string[];
    try {
      parts = parseSysctlKey(key);
    } catch {
      return; // malformed: the sysctl layer answers `invalid`
    }
    const pats = ns === 'host' ? this.caps.sysctlHost : ns === 'container' ? this.caps.sysctlContainer : [];
    if (!pats.some((p) => keyMatchParts(p.glob, parts))) {
      throw new PermissionDenied(`sysctl.${ns}`, `may not ${write ? 'write' : 'read'} ${JSON.stringify(formatSysctlKey(parts))} in the ${ns} namespace`);
    }
  }

  // ---------- firewall, store, ipam

  requireFirewall(what: string): void {
    if (!this.caps.firewall) throw new PermissionDenied('firewall', `may not ${what}`);
  }

  /** The normalised root if it is within a granted root. */
  requireStoreRoot(root: string): string {
    const norm = normalizeRoot(root);
    if (norm !== undefined && this.caps.store.some((r) => pathWithin(r.glob, norm))) return norm;
    const granted = this.caps.store.map((r) => r.glob);
    throw new PermissionDenied(
      'store',
      `may not open state under ${JSON.stringify(root)}: ${norm === undefined ? 'not an absolute path without ".."' : 'outside the granted roots'} (${granted.length ? granted.map((g) => JSON.stringify(g)).join(', ') : 'none granted'})`,
    );
  }

  // ---------- files

  /** Is this normalised absolute path granted by `files.read`? (Exact paths.) */
  fileReadGranted(norm: string): boolean {
    return this.caps.filesRead.some((f) => f.glob === norm);
  }

  /** The normalised path if `files.read` grants it (before following symlinks: see host-api/files.ts). */
  requireFileRead(path: string): string {
    const norm = normalizeRoot(path);
    if (norm !== undefined && this.fileReadGranted(norm)) return norm;
    throw new PermissionDenied(
      'files.read',
      `may not read ${JSON.stringify(path)}: ${norm === undefined ? 'not an absolute path without ".."' : 'not granted'} (${this.grantedFiles()})`,
    );
  }

  /** The granted paths, for messages. */
  grantedFiles(): string {
    const granted = this.caps.filesRead.map((f) => JSON.stringify(f.glob));
    return granted.length ? `granted: ${granted.join(', ')}` : 'none granted';
  }

  requireIpam(what: string): void {
    if (!this.caps.ipam) throw new PermissionDenied('ipam', `may not ${what}`);
  }
}
