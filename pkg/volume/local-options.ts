// Docker's local volume driver options: `type`, `device` and `o` describe a filesystem mount(2) makes at the
// volume's _data while a container uses it (`--opt type=tmpfs --opt device=tmpfs --opt o=size=64m`, or a
// bind of a host directory: `type=none,device=/srv/x,o=bind`). `o` is mount(8)'s option list: the flags it
// knows become mount flags, the rest is the filesystem's data string.
import { readFileSync } from 'node:fs';
import {
  MNT_DETACH,
  MS_BIND,
  MS_NODEV,
  MS_NOEXEC,
  MS_NOSUID,
  MS_PRIVATE,
  MS_RDONLY,
  MS_REC,
  MS_REMOUNT,
  MS_SHARED,
  MS_SLAVE,
  mount,
  umount2,
} from '../../native/libc.ts';
import { unescapeMountPath } from '../cgroups/layout.ts';

export class VolumeOptionError extends Error {
  override name = 'VolumeOptionError';
}

const VALID_KEYS = new Set(['type', 'device', 'o']);

const MS_SYNCHRONOUS = 0x10;
const MS_DIRSYNC = 0x80;
const MS_NOATIME = 0x400;
const MS_NODIRATIME = 0x800;
const MS_RELATIME = 0x200000;
const MS_STRICTATIME = 0x1000000;

/** mount(8)'s flag words: [flags set, flags cleared]. */
const FLAG_WORDS: Record<string, [number, number]> = {
  defaults: [0, 0],
  ro: [MS_RDONLY, 0],
  rw: [0, MS_RDONLY],
  nosuid: [MS_NOSUID, 0],
  suid: [0, MS_NOSUID],
  nodev: [MS_NODEV, 0],
  dev: [0, MS_NODEV],
  noexec: [MS_NOEXEC, 0],
  exec: [0, MS_NOEXEC],
  sync: [MS_SYNCHRONOUS, 0],
  async: [0, MS_SYNCHRONOUS],
  dirsync: [MS_DIRSYNC, 0],
  noatime: [MS_NOATIME, 0],
  atime: [0, MS_NOATIME],
  nodiratime: [MS_NODIRATIME, 0],
  diratime: [0, MS_NODIRATIME],
  relatime: [MS_RELATIME, 0],
  norelatime: [0, MS_RELATIME],
  strictatime: [MS_STRICTATIME, 0],
  nostrictatime: [0, MS_STRICTATIME],
  bind: [MS_BIND, 0],
  rbind: [MS_BIND | MS_REC, 0],
};

const PROPAGATION_WORDS: Record<string, number> = {
  private: MS_PRIVATE,
  rprivate: MS_PRIVATE | MS_REC,
  shared: MS_SHARED,
  rshared: MS_SHARED | MS_REC,
  slave: MS_SLAVE,
  rslave: MS_SLAVE | MS_REC,
};

export interface LocalMount {
  readonly type: string;
  readonly device: string;
  readonly flags: number;
  readonly propagation: number;
  readonly data: string;
}

/**
 * The mount a volume's options describe, undefined when they describe none (a plain directory). Refuses
 * keys the local driver does not know, with Docker's message.
 */
export function parseLocalOptions(options: Readonly<Record<string, string>>): LocalMount | undefined {
  for (const key of Object.keys(options)) {
    if (key === 'size') throw new VolumeOptionError('quota size requested but no quota support');
    if (!VALID_KEYS.has(key)) throw new VolumeOptionError(`invalid option key: ${JSON.stringify(key)}`);
  }
  const type = options['type'] ?? '';
  const device = options['device'] ?? '';
  if (type === '' && device === '') {
    if (options['o']) throw new VolumeOptionError('missing required option: "type"');
    return undefined;
  }
  if (device === '') throw new VolumeOptionError('missing required option: "device"');
  let flags = 0;
  let propagation = 0;
  const data: string[] = [];
  for (const word of (options['o'] ?? '').split(',').filter(Boolean)) {
    const flag = FLAG_WORDS[word];
    const prop = PROPAGATION_WORDS[word];
    if (flag) flags = (flags | flag[0]) & ~flag[1];
    else if (prop !== undefined) propagation = prop;
    else data.push(word);
  }
  // "none" is mount(8)'s word for a bind's missing filesystem type
  return { type: type === 'none' ? '' : type, device, flags, propagation, data: data.join(',') };
}

/** Mounts the volume's filesystem on its _data directory. */
export function mountLocal(spec: LocalMount, target: string): void {
  mount(spec.device, target, spec.type || null, spec.flags, spec.data || null);
  try {
    // a bind ignores flags other than MS_REC: read-only takes a remount
    if (spec.flags & MS_BIND && spec.flags & MS_RDONLY)
      mount(null, target, null, MS_REMOUNT | MS_BIND | MS_RDONLY, null);
    if (spec.propagation) mount(null, target, null, spec.propagation, null);
  } catch (err) {
    umount2(target, MNT_DETACH);
    throw err;
  }
}

export function unmountLocal(target: string): void {
  umount2(target, MNT_DETACH);
}

/** Whether something is mounted exactly at `path` in this process's mount namespace. */
export function isMountPoint(path: string): boolean {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .some((line) => unescapeMountPath(line.split(' ')[4] ?? '') === path);
}
