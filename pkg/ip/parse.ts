// Text to bytes for IPv4 and IPv6 addresses, strict and cheap. node:net's isIP would do, but its first call
// compiles a large regular expression (~4 ms) and loading node:net costs more: a CNI plugin pays both on every
// start for a handful of addresses.

/** 0 when `text` is not an address; zones (`fe80::1%eth0`) are refused. */
export function ipFamilyOf(text: string): 0 | 4 | 6 {
  const b = parseIpBytes(text);
  return b === undefined ? 0 : b.length === 4 ? 4 : 6;
}

function parseV4(text: string, out: Buffer, offset: number): boolean {
  const parts = text.split('.');
  if (parts.length !== 4) return false;
  for (let i = 0; i < 4; i++) {
    const p = parts[i] ?? '';
    // Decimal only, no leading zeros (they read as octal elsewhere), 0..255.
    if (!/^(0|[1-9][0-9]{0,2})$/.test(p)) return false;
    const v = Number(p);
    if (v > 255) return false;
    out[offset + i] = v;
  }
  return true;
}

function parseGroups(text: string): number[] | undefined {
  if (text === '') return [];
  const groups: number[] = [];
  for (const g of text.split(':')) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
    groups.push(Number.parseInt(g, 16));
  }
  return groups;
}

/** 4 or 16 bytes, or undefined when `text` is not an IPv4 or IPv6 address. */
export function parseIpBytes(text: string): Buffer | undefined {
  if (!text.includes(':')) {
    const out = Buffer.alloc(4);
    return parseV4(text, out, 0) ? out : undefined;
  }
  const out = Buffer.alloc(16);
  let body = text;
  let tailGroups = 0;
  // An embedded IPv4 tail (::ffff:10.1.2.3) fills the last two groups.
  const lastColon = body.lastIndexOf(':');
  if (body.slice(lastColon + 1).includes('.')) {
    if (!parseV4(body.slice(lastColon + 1), out, 12)) return undefined;
    body = body.slice(0, lastColon + 1);
    // "::" before the tail stays "::"; a single ":" before it is a separator.
    body = body.endsWith('::') ? body : body.slice(0, -1);
    tailGroups = 2;
  }
  const halves = body.split('::');
  if (halves.length > 2) return undefined;
  const head = parseGroups(halves[0] ?? '');
  const tail = halves.length === 2 ? parseGroups(halves[1] ?? '') : [];
  if (!head || !tail) return undefined;
  const explicit = head.length + tail.length + tailGroups;
  if (halves.length === 1 ? explicit !== 8 : explicit > 7) return undefined;
  const groups = [...head, ...new Array<number>(8 - tailGroups - head.length - tail.length).fill(0), ...tail];
  groups.forEach((g, i) => {
    out.writeUInt16BE(g, i * 2);
  });
  return out;
}
