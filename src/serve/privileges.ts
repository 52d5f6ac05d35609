// Started as root (the systemd unit), serve keeps root only long enough to start the helper; the HTTP side, the
// classifier and the OTLP pusher then run as an unprivileged user, so the helper stays the only root process.
import { readFileSync } from 'node:fs';

export interface Account {
  name: string;
  uid: number;
  gid: number;
}

/** An account from /etc/passwd (name:x:uid:gid:...), or undefined. */
export function lookupUser(name: string, passwd = '/etc/passwd'): Account | undefined {
  let text: string;
  try {
    text = readFileSync(passwd, 'utf8');
  } catch {
    return undefined;
  }
  for (const line of text.split('\n')) {
    const f = line.split(':');
    if (f[0] === name && f.length >= 4 && /^\d+$/.test(f[2]) && /^\d+$/.test(f[3]))
      return { name, uid: Number(f[2]), gid: Number(f[3]) };
  }
  return undefined;
}

export class PrivilegeError extends Error {
  override name = 'PrivilegeError';
}

/**
 * Becomes `user` (default: the `hotspot` system user the .deb creates, else `nobody`): supplementary groups
 * cleared, then the group, then the user (in that order: after setuid the others are no longer allowed).
 * Verifies the result, since carrying on as root by mistake is worse than stopping.
 */
export function dropPrivileges(user?: string): Account {
  const candidates = user ? [user] : ['hotspot', 'nobody'];
  const account = candidates.map((n) => lookupUser(n)).find((a) => a !== undefined);
  if (!account)
    throw new PrivilegeError(
      user
        ? `--user: no user "${user}" in /etc/passwd`
        : 'neither a "hotspot" nor a "nobody" user exists to run the HTTP side as; create one or name one with --user',
    );
  if (account.uid === 0)
    throw new PrivilegeError(`--user: ${account.name} has uid 0; name an unprivileged user`);
  process.setgroups?.([]);
  process.setgid?.(account.gid);
  process.setuid?.(account.uid);
  if (
    process.getuid?.() !== account.uid ||
    process.geteuid?.() !== account.uid ||
    process.getegid?.() !== account.gid
  )
    throw new PrivilegeError(`could not become ${account.name} (uid ${account.uid})`);
  return account;
}
