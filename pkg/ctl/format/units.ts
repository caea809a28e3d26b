// Sizes and ages as the docker CLI prints them (go-units HumanSize and HumanDuration).

const SIZE_UNITS = ['B', 'kB', 'MB', 'GB', 'TB', 'PB', 'EB', 'ZB', 'YB'];

/** Decimal units, three significant digits: 4264000 → "4.26MB", 0 → "0B". */
export function humanSize(bytes: number): string {
  let size = bytes;
  let unit = 0;
  while (size >= 1000 && unit < SIZE_UNITS.length - 1) {
    size /= 1000;
    unit++;
  }
  return `${Number(size.toPrecision(3))}${SIZE_UNITS[unit]}`;
}

/** How long ago, in Docker's words: "Less than a second", "About a minute", "2 days", "3 weeks". */
export function humanDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  if (seconds < 1) return 'Less than a second';
  if (seconds === 1) return '1 second';
  if (seconds < 60) return `${seconds} seconds`;
  const minutes = Math.floor(seconds / 60);
  if (minutes === 1) return 'About a minute';
  if (minutes < 60) return `${minutes} minutes`;
  const hours = Math.round(ms / 3_600_000);
  if (hours === 1) return 'About an hour';
  if (hours < 48) return `${hours} hours`;
  if (hours < 24 * 7 * 2) return `${Math.floor(hours / 24)} days`;
  if (hours < 24 * 30 * 2) return `${Math.floor(hours / 24 / 7)} weeks`;
  if (hours < 24 * 365 * 2) return `${Math.floor(hours / 24 / 30)} months`;
  return `${Math.floor(ms / 3_600_000 / 24 / 365)} years`;
}

/** "2 days ago" for a Unix time in seconds; "N/A" when unknown (0), as docker images shows it. */
export function createdSince(unixSeconds: number, now = Date.now()): string {
  return unixSeconds > 0 ? `${humanDuration(now - unixSeconds * 1000)} ago` : 'N/A';
}

/** `sha256:<hex>` shortened to Docker's 12 hex digits unless `noTrunc`. */
export function shortId(id: string, noTrunc = false): string {
  if (noTrunc) return id;
  const hex = id.startsWith('sha256:') ? id.slice('sha256:'.length) : id;
  return hex.slice(0, 12);
}
