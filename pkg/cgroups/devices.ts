// Docker's size and per-device rate flags: "-m 512m", "--device-read-bps /dev/vda:1mb" → bytes and a
// device's major:minor numbers, which is what the throttle files take.
import { statSync } from 'node:fs';
import { CgroupError } from './layout.ts';
import type { DeviceRate } from './resources.ts';

const SIZE_RE = /^(\d+(?:\.\d+)?) ?([kmgtp])?i?b?$/i;
const UNITS: Record<string, number> = { '': 1, k: 2 ** 10, m: 2 ** 20, g: 2 ** 30, t: 2 ** 40, p: 2 ** 50 };

/** Docker's RAMInBytes: "1024", "64k", "512m", "1.5g", "2GiB" (binary units, case-insensitive). */
export function parseByteSize(text: string): number {
  const m = SIZE_RE.exec(text.trim());
  const bytes = m ? Math.floor(Number(m[1]) * (UNITS[(m[2] ?? '').toLowerCase()] ?? Number.NaN)) : Number.NaN;
  if (!Number.isSafeInteger(bytes)) {
    throw new CgroupError(
      `invalid size ${JSON.stringify(text)}: use a number with an optional unit (b, k, m, g, t, p)`,
    );
  }
  return bytes;
}

/** The major and minor numbers of a block device node. */
export function blockDeviceNumbers(path: string): { major: number; minor: number } {
  let st: ReturnType<typeof statSync>;
  try {
    st = statSync(path);
  } catch (err) {
    throw new CgroupError(`device ${path}: ${(err as NodeJS.ErrnoException).code ?? 'cannot stat'}`, {
      cause: err,
    });
  }
  if (!st.isBlockDevice()) throw new CgroupError(`device ${path} is not a block device`);
  // glibc's gnu_dev_major/minor encoding of dev_t
  const rdev = BigInt(st.rdev);
  const major = Number(((rdev >> 8n) & 0xfffn) | ((rdev >> 32n) & ~0xfffn));
  const minor = Number((rdev & 0xffn) | ((rdev >> 12n) & ~0xffn));
  return { major, minor };
}

/** "--device-read-bps /dev/vda:1mb" → { major, minor, rate } */
export function parseDeviceRate(text: string): DeviceRate {
  const sep = text.lastIndexOf(':');
  if (sep <= 0)
    throw new CgroupError(`invalid device rate ${JSON.stringify(text)}: use DEVICE:RATE, e.g. /dev/sda:1mb`);
  const rate = parseByteSize(text.slice(sep + 1));
  if (rate <= 0)
    throw new CgroupError(`invalid device rate ${JSON.stringify(text)}: the rate must be positive`);
  return { ...blockDeviceNumbers(text.slice(0, sep)), rate };
}
