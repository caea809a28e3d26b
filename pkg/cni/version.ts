// Protocol versions and result formats: parse a result of any supported version into the canonical (1.x)
// form, and print the canonical form in the version a configuration asks for.
import { ipFamilyOf as isIP } from '../ip/parse.ts';
import { CniError, ErrorCode } from './errors.ts';
import type { CniVersion, DNS, Interface, IPConfig, NetConf, Result, Route } from './types.ts';

export const SUPPORTED_VERSIONS: readonly CniVersion[] = ['0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0'];
export const CURRENT_VERSION: CniVersion = '1.1.0';
/** What a configuration without `cniVersion` means (the reference decoder's rule). */
const IMPLICIT_VERSION = '0.1.0';

const SEMVER_RE = /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)$/;

export function isSupportedVersion(version: string): version is CniVersion {
  return (SUPPORTED_VERSIONS as readonly string[]).includes(version);
}

/** Compares two "major.minor.patch" versions; throws code 6 on anything else. */
export function compareVersions(a: string, b: string): number {
  const pa = parseSemver(a);
  const pb = parseSemver(b);
  for (let i = 0; i < 3; i++) {
    const d = pa[i]! - pb[i]!;
    if (d !== 0) return Math.sign(d);
  }
  return 0;
}

function parseSemver(version: string): [number, number, number] {
  const m = SEMVER_RE.exec(version);
  if (!m) throw new CniError(ErrorCode.DecodingFailure, `invalid version ${JSON.stringify(version)}`);
  return [Number(m[1]), Number(m[2]), Number(m[3])];
}

/** The `cniVersion` a configuration declares (absent = 0.1.0, like the reference); code 6 if not a string. */
export function configVersion(conf: Record<string, unknown>): string {
  const v = conf['cniVersion'];
  if (v === undefined || v === '') return IMPLICIT_VERSION;
  if (typeof v !== 'string') {
    throw new CniError(ErrorCode.DecodingFailure, `cniVersion must be a string, got ${JSON.stringify(v)}`);
  }
  return v;
}

/** Checks that `version` is one the plugin supports; code 1 with the reference's wording otherwise. */
export function requireSupportedVersion(
  version: string,
  supported: readonly string[] = SUPPORTED_VERSIONS,
): CniVersion {
  if (supported.includes(version) && isSupportedVersion(version)) return version;
  const list = supported.map((v) => JSON.stringify(v)).join(' ');
  throw new CniError(
    ErrorCode.IncompatibleVersion,
    'incompatible CNI versions',
    `config is ${JSON.stringify(version)}, plugin supports [${list}]`,
  );
}

// ---- parsing any supported wire format into the canonical result ----

type Json = Record<string, unknown>;

function fail(where: string, why: string): never {
  throw new CniError(ErrorCode.DecodingFailure, `invalid result: ${where} ${why}`);
}

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** True for "addr/len" with a valid IPv4 or IPv6 address and prefix length. */
export function isCidr(value: string): boolean {
  const slash = value.indexOf('/');
  if (slash < 0) return false;
  const family = isIP(value.slice(0, slash));
  const len = value.slice(slash + 1);
  if (family === 0 || !/^\d{1,3}$/.test(len)) return false;
  return Number(len) <= (family === 4 ? 32 : 128);
}

function optString(obj: Json, key: string, where: string): string | undefined {
  const v = obj[key];
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v !== 'string') fail(`${where}.${key}`, 'must be a string');
  return v;
}

function optInt(obj: Json, key: string, where: string): number | undefined {
  const v = obj[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v)) fail(`${where}.${key}`, 'must be an integer');
  return v;
}

function optIp(obj: Json, key: string, where: string): string | undefined {
  const v = optString(obj, key, where);
  if (v !== undefined && isIP(v) === 0) fail(`${where}.${key}`, `${JSON.stringify(v)} is not an IP address`);
  return v;
}

function optStrings(obj: Json, key: string, where: string): string[] | undefined {
  const v = obj[key];
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v) || v.some((s) => typeof s !== 'string')) {
    fail(`${where}.${key}`, 'must be a list of strings');
  }
  return [...(v as string[])];
}

function list(obj: Json, key: string): Json[] | undefined {
  const v = obj[key];
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v)) fail(key, 'must be a list');
  return v.map((item, i) => (isObject(item) ? item : fail(`${key}[${i}]`, 'must be an object')));
}

/** Drops undefined members so results compare and print cleanly. */
function compact<T extends object>(obj: T): T {
  for (const k of Object.keys(obj) as (keyof T)[]) if (obj[k] === undefined) delete obj[k];
  return obj;
}

function parseInterface(raw: Json, where: string): Interface {
  const name = optString(raw, 'name', where);
  if (name === undefined) fail(`${where}.name`, 'is required');
  return compact({
    name,
    mac: optString(raw, 'mac', where),
    mtu: optInt(raw, 'mtu', where),
    sandbox: optString(raw, 'sandbox', where),
    socketPath: optString(raw, 'socketPath', where),
    pciID: optString(raw, 'pciID', where),
  });
}

function parseIp(raw: Json, where: string, ifaceCount: number | undefined): IPConfig {
  const address = optString(raw, 'address', where);
  if (address === undefined || !isCidr(address)) {
    fail(`${where}.address`, `${JSON.stringify(address ?? null)} is not an address in CIDR form`);
  }
  const ifIndex = optInt(raw, 'interface', where);
  if (ifIndex !== undefined && (ifIndex < 0 || (ifaceCount !== undefined && ifIndex >= ifaceCount))) {
    fail(`${where}.interface`, `index ${ifIndex} does not name one of the result's interfaces`);
  }
  return compact({ address, gateway: optIp(raw, 'gateway', where), interface: ifIndex });
}

function parseRoute(raw: Json, where: string): Route {
  const dst = optString(raw, 'dst', where);
  if (dst === undefined || !isCidr(dst)) {
    fail(`${where}.dst`, `${JSON.stringify(dst ?? null)} is not a destination in CIDR form`);
  }
  return compact({
    dst,
    gw: optIp(raw, 'gw', where),
    mtu: optInt(raw, 'mtu', where),
    advmss: optInt(raw, 'advmss', where),
    priority: optInt(raw, 'priority', where),
    table: optInt(raw, 'table', where),
    scope: optInt(raw, 'scope', where),
  });
}

function parseDns(raw: unknown): DNS | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (!isObject(raw)) fail('dns', 'must be an object');
  return compact({
    nameservers: optStrings(raw, 'nameservers', 'dns'),
    domain: optString(raw, 'domain', 'dns'),
    search: optStrings(raw, 'search', 'dns'),
    options: optStrings(raw, 'options', 'dns'),
  });
}

/**
 * Parses a result of any supported version (its own `cniVersion`, else `versionHint`) into the canonical form.
 * Malformed content is code 6; an unsupported version is code 1.
 */
export function parseResult(raw: unknown, versionHint?: string): Result {
  if (!isObject(raw)) fail('result', 'must be a JSON object');
  const declared = raw['cniVersion'];
  const version = typeof declared === 'string' && declared !== '' ? declared : versionHint;
  if (version === undefined) fail('cniVersion', 'is missing');
  if (!isSupportedVersion(version)) {
    throw new CniError(
      ErrorCode.IncompatibleVersion,
      `result version ${JSON.stringify(version)} is not supported`,
      `supported result versions: ${SUPPORTED_VERSIONS.join(', ')}`,
    );
  }
  const interfaces = list(raw, 'interfaces')?.map((r, i) => parseInterface(r, `interfaces[${i}]`));
  return compact({
    cniVersion: CURRENT_VERSION,
    interfaces,
    // The 0.x `version` ("4"/"6") is implied by the address; the canonical form drops it.
    ips: list(raw, 'ips')?.map((r, i) => parseIp(r, `ips[${i}]`, interfaces?.length)),
    routes: list(raw, 'routes')?.map((r, i) => parseRoute(r, `routes[${i}]`)),
    dns: parseDns(raw['dns']),
  });
}

/** The configuration's `prevResult` in canonical form, or undefined when there is none (code 7 if invalid). */
export function parsePrevResult(conf: NetConf): Result | undefined {
  if (conf.prevResult === undefined || conf.prevResult === null) return undefined;
  try {
    return parseResult(conf.prevResult, conf.cniVersion);
  } catch (err) {
    if (!(err instanceof CniError) || err.code === ErrorCode.IncompatibleVersion) throw err;
    throw new CniError(ErrorCode.InvalidNetworkConfig, `invalid prevResult: ${err.msg}`, err.details, {
      cause: err,
    });
  }
}

// ---- printing the canonical result in a given version ----

function ipVersion(cidr: string): '4' | '6' {
  return isIP(cidr.split('/')[0] ?? '') === 6 ? '6' : '4';
}

/** A result as JSON in `version`'s wire format (0.3.x/0.4.0 ips carry "version"; 1.x do not). Code 1 if unsupported. */
export function convertResult(result: Result, version: string): Record<string, unknown> {
  if (!isSupportedVersion(version)) {
    throw new CniError(
      ErrorCode.IncompatibleVersion,
      `cannot convert result to version ${JSON.stringify(version)}`,
      `supported result versions: ${SUPPORTED_VERSIONS.join(', ')}`,
    );
  }
  const legacy = compareVersions(version, '1.0.0') < 0;
  const out: Record<string, unknown> = { cniVersion: version };
  if (result.interfaces) {
    out['interfaces'] = result.interfaces.map((i) =>
      legacy ? compact({ name: i.name, mac: i.mac, sandbox: i.sandbox }) : compact({ ...i }),
    );
  }
  if (result.ips) {
    out['ips'] = result.ips.map((ip) =>
      compact({
        version: legacy ? ipVersion(ip.address) : undefined,
        interface: ip.interface,
        address: ip.address,
        gateway: ip.gateway,
      }),
    );
  }
  if (result.routes) {
    out['routes'] = result.routes.map((r) =>
      legacy ? compact({ dst: r.dst, gw: r.gw }) : compact({ ...r }),
    );
  }
  // The reference always prints "dns" (an empty object when there is none); consumers expect the key.
  out['dns'] = compact({ ...(result.dns ?? {}) });
  return out;
}
