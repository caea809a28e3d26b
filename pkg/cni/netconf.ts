// Decoding the network configuration from stdin: JSON (code 6), the well-known fields' shapes (code 7),
// the version (code 1). Plugin-specific fields stay in the object for the plugin to read.
import { validateNetworkName } from './env.ts';
import { CniError, ErrorCode } from './errors.ts';
import type { GcAttachment, NetConf } from './types.ts';

const VALID_ATTACHMENTS_KEY = 'cni.dev/valid-attachments';

function invalid(msg: string, details?: string): never {
  throw new CniError(ErrorCode.InvalidNetworkConfig, msg, details);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function requireObjectField(conf: Record<string, unknown>, key: string): void {
  const v = conf[key];
  if (v !== undefined && v !== null && !isObject(v)) invalid(`"${key}" must be an object`, JSON.stringify(v));
}

/** Parses stdin as JSON; code 6 when it is not a JSON object. */
export function decodeJsonObject(
  stdin: Uint8Array | string,
  what = 'network config',
): Record<string, unknown> {
  const text = typeof stdin === 'string' ? stdin : Buffer.from(stdin).toString('utf8');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new CniError(ErrorCode.DecodingFailure, `error decoding ${what}: ${(err as Error).message}`);
  }
  if (!isObject(value)) {
    throw new CniError(ErrorCode.DecodingFailure, `error decoding ${what}: expected a JSON object`);
  }
  return value;
}

/** The field checks of a network config that do not involve the version. */
export function checkNetConfFields(conf: Record<string, unknown>): void {
  const name = conf['name'];
  if (name === undefined || name === '') invalid('missing network name');
  if (typeof name !== 'string') invalid('network name must be a string', JSON.stringify(name));
  validateNetworkName(name);
  const type = conf['type'];
  if (typeof type !== 'string' || type === '') {
    invalid('"type" must name the plugin', JSON.stringify(type ?? null));
  }
  for (const key of ['ipam', 'dns', 'runtimeConfig', 'capabilities', 'args']) requireObjectField(conf, key);
  const ipam = conf['ipam'];
  if (isObject(ipam) && (typeof ipam['type'] !== 'string' || ipam['type'] === '')) {
    invalid('"ipam.type" must name an IPAM plugin', JSON.stringify(ipam['type'] ?? null));
  }
}

/** GC's `cni.dev/valid-attachments`; absent or null means none (everything may be collected). Code 7 if malformed. */
export function readValidAttachments(conf: NetConf): GcAttachment[] {
  // libcni (>= 1.2.3) sets both spellings; the spec's is cni.dev/valid-attachments.
  const raw = conf[VALID_ATTACHMENTS_KEY] ?? conf['cni.dev/attachments'];
  if (raw === undefined || raw === null) {
    // Without the list every attachment would look stale: refuse rather than release everything.
    invalid(`GC needs "${VALID_ATTACHMENTS_KEY}" (the attachments to keep); refusing to release everything`);
  }
  if (!Array.isArray(raw)) invalid(`"${VALID_ATTACHMENTS_KEY}" must be a list`, JSON.stringify(raw));
  return raw.map((item: unknown, i) => {
    if (!isObject(item) || typeof item['containerID'] !== 'string' || typeof item['ifname'] !== 'string') {
      invalid(
        `"${VALID_ATTACHMENTS_KEY}[${i}]" must be {"containerID": string, "ifname": string}`,
        JSON.stringify(item),
      );
    }
    return { containerID: item['containerID'], ifname: item['ifname'] };
  });
}
