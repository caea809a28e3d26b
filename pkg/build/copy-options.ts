// COPY/ADD's --chown and --chmod as Docker reads them. --chown resolves names against the stage's own
// /etc/passwd and /etc/group (through the runtime's resolver), but unlike USER a user without a group gets
// its UID as the GID, as Docker documents for --chown. --chmod is octal.
import { resolveUser, UserSpecError } from '../runtime/user.ts';

export class CopyOptionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CopyOptionError';
  }
}

export interface Owner {
  uid: number;
  gid: number;
}

/** `--chown=user[:group]` against the stage's root filesystem. */
export function resolveCopyOwner(chown: string, rootfs: string): Owner {
  try {
    const { uid, gid } = resolveUser(chown, rootfs);
    return { uid, gid: chown.includes(':') ? gid : uid };
  } catch (err) {
    if (err instanceof UserSpecError) throw new CopyOptionError(`--chown=${chown}: ${err.message}`);
    throw err;
  }
}

/** `--chmod=0644` → the permission bits (set-id and sticky bits allowed). */
export function parseCopyMode(chmod: string): number {
  if (!/^[0-7]{3,4}$/.test(chmod))
    throw new CopyOptionError(`--chmod=${chmod}: expected an octal mode such as 0644 or 755`);
  return Number.parseInt(chmod, 8);
}
