// `-u user[:group]` resolved the way Docker does, against the image's own /etc/passwd and /etc/group:
// names or numbers; a numeric uid need not exist; the user's supplementary groups are added; HOME follows.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export class UserSpecError extends Error {
  override name = 'UserSpecError';
}

export interface ResolvedUser {
  readonly uid: number;
  readonly gid: number;
  readonly additionalGids: number[];
  /** from passwd, "/" when the user has no entry */
  readonly home: string;
}

interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
  home: string;
}
interface GroupEntry {
  name: string;
  gid: number;
  members: string[];
}

function readColonFile(path: string): string[][] {
  let text = '';
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return [];
  }
  return text
    .split('\n')
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => line.split(':'));
}

function passwd(rootfs: string): PasswdEntry[] {
  return readColonFile(join(rootfs, 'etc/passwd')).map(([name = '', , uid = '', gid = '', , home = '']) => ({
    name,
    uid: Number(uid),
    gid: Number(gid),
    home,
  }));
}

function groups(rootfs: string): GroupEntry[] {
  return readColonFile(join(rootfs, 'etc/group')).map(([name = '', , gid = '', members = '']) => ({
    name,
    gid: Number(gid),
    members: members.split(',').filter((m) => m !== ''),
  }));
}

const NUMERIC = /^\d+$/;
const MAX_ID = 2 ** 32 - 2;

function numericId(kind: string, text: string): number {
  const id = Number(text);
  if (id > MAX_ID) throw new UserSpecError(`${kind} id ${text} is out of range`);
  return id;
}

/** Resolves "" (root), "uid", "name", "uid:gid", "name:group" … against the rootfs. */
export function resolveUser(spec: string, rootfs: string, extraGroups: readonly string[] = []): ResolvedUser {
  const [userPart = '', groupPart, ...rest] = spec.split(':');
  if (rest.length > 0 || (spec !== '' && userPart === '') || groupPart === '') {
    throw new UserSpecError(`invalid user ${JSON.stringify(spec)}: use user[:group] (names or numbers)`);
  }
  const users = passwd(rootfs);
  const allGroups = groups(rootfs);
  let entry: PasswdEntry | undefined;
  let uid: number;
  if (userPart === '' || NUMERIC.test(userPart)) {
    uid = userPart === '' ? 0 : numericId('user', userPart);
    entry = users.find((u) => u.uid === uid);
  } else {
    entry = users.find((u) => u.name === userPart);
    if (entry === undefined) {
      throw new UserSpecError(
        `unable to find user ${userPart}: no matching entries in the image's /etc/passwd`,
      );
    }
    uid = entry.uid;
  }
  const lookupGroup = (g: string): number => {
    if (NUMERIC.test(g)) return numericId('group', g);
    const found = allGroups.find((x) => x.name === g);
    if (found === undefined) {
      throw new UserSpecError(`unable to find group ${g}: no matching entries in the image's /etc/group`);
    }
    return found.gid;
  };
  const gid = groupPart !== undefined ? lookupGroup(groupPart) : (entry?.gid ?? 0);
  // Like Docker: an explicit group replaces the supplementary groups from /etc/group.
  const supplementary =
    groupPart === undefined && entry !== undefined
      ? allGroups.filter((g) => g.members.includes(entry.name) && g.gid !== gid).map((g) => g.gid)
      : [];
  const additionalGids = [...new Set([...supplementary, ...extraGroups.map(lookupGroup)])];
  return { uid, gid, additionalGids, home: entry?.home || '/' };
}
