// parseCreateSpec: Docker's ContainerCreate body (JSON) checked field by field, so that a bad request is
// refused at the edge with one line naming the field, and everything after it can trust the shape. Unknown
// fields are ignored, as Docker's decoder does.
import { LogOptionError, parseLogRotation } from '../logs/rotate.ts';
import type { ContainerCreateSpec } from './create-spec.ts';

export class CreateSpecError extends Error {
  override name = 'CreateSpecError';
}

type Json = Record<string, unknown>;

function fail(path: string, expected: string, value: unknown): never {
  throw new CreateSpecError(
    `invalid container spec: ${path} must be ${expected}, got ${JSON.stringify(value)}`,
  );
}

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const check = {
  string(path: string, v: unknown): void {
    if (typeof v !== 'string') fail(path, 'a string', v);
  },
  bool(path: string, v: unknown): void {
    if (typeof v !== 'boolean') fail(path, 'true or false', v);
  },
  int(path: string, v: unknown, min = Number.MIN_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER): void {
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max)
      fail(path, `an integer in [${min}, ${max}]`, v);
  },
  strings(path: string, v: unknown): void {
    if (!Array.isArray(v) || v.some((s) => typeof s !== 'string')) fail(path, 'a list of strings', v);
  },
  stringMap(path: string, v: unknown): void {
    if (!isObject(v) || Object.values(v).some((s) => typeof s !== 'string'))
      fail(path, 'an object of strings', v);
  },
};

function checkObject(path: string, v: unknown): asserts v is Json {
  if (!isObject(v)) fail(path, 'an object', v);
}

type Checker = (path: string, v: unknown) => void;

function fields(path: string, obj: Json, spec: Record<string, Checker>): void {
  for (const [key, checker] of Object.entries(spec)) {
    const v = obj[key];
    // Docker's Go decoder takes null as absent
    if (v === undefined || v === null) continue;
    checker(`${path}${key}`, v);
  }
}

const int =
  (min?: number, max?: number): Checker =>
  (p, v) =>
    check.int(p, v, min, max);
const PORT_RE = /^\d{1,5}(?:\/(?:tcp|udp|sctp))?$/;

function portKey(path: string, key: string): void {
  const port = Number(key.split('/')[0]);
  if (!PORT_RE.test(key) || port < 1 || port > 65535)
    throw new CreateSpecError(
      `invalid container spec: ${path}: invalid port ${JSON.stringify(key)}: use PORT[/tcp|udp|sctp]`,
    );
}

const exposedPorts: Checker = (path, v) => {
  checkObject(path, v);
  for (const [key, value] of Object.entries(v)) {
    portKey(path, key);
    if (!isObject(value)) fail(`${path}["${key}"]`, '{}', value);
  }
};

const portBindings: Checker = (path, v) => {
  checkObject(path, v);
  for (const [key, list] of Object.entries(v)) {
    portKey(path, key);
    if (list === null) continue;
    if (!Array.isArray(list)) fail(`${path}["${key}"]`, 'a list of bindings', list);
    list.forEach((b: unknown, i: number) => {
      const p = `${path}["${key}"][${i}]`;
      checkObject(p, b);
      fields(`${p}.`, b, { HostIp: check.string, HostPort: check.string });
      const hostPort = b['HostPort'];
      if (typeof hostPort === 'string' && hostPort !== '' && !/^\d{1,5}(-\d{1,5})?$/.test(hostPort))
        fail(`${p}.HostPort`, 'a port number or ""', hostPort);
    });
  }
};

const restartPolicy: Checker = (path, v) => {
  checkObject(path, v);
  const name = v['Name'] ?? '';
  if (!['', 'no', 'always', 'unless-stopped', 'on-failure'].includes(name as string))
    throw new CreateSpecError(
      `invalid restart policy ${JSON.stringify(name)}: use no, always, unless-stopped or on-failure[:max-retries]`,
    );
  const max = v['MaximumRetryCount'];
  if (max !== undefined && max !== null) {
    check.int(`${path}.MaximumRetryCount`, max, 0);
    if (max !== 0 && name !== 'on-failure')
      throw new CreateSpecError(
        `invalid restart policy: maximum retry count can only be used with 'on-failure'`,
      );
  }
};

const mounts: Checker = (path, v) => {
  if (!Array.isArray(v)) fail(path, 'a list of mounts', v);
  v.forEach((m: unknown, i: number) => {
    const p = `${path}[${i}]`;
    checkObject(p, m);
    if (!['bind', 'volume', 'tmpfs'].includes(m['Type'] as string))
      fail(`${p}.Type`, 'bind, volume or tmpfs', m['Type']);
    if (typeof m['Target'] !== 'string' || m['Target'] === '') fail(`${p}.Target`, 'a path', m['Target']);
    fields(`${p}.`, m, {
      Source: check.string,
      ReadOnly: check.bool,
      BindOptions: (bp, bv) => {
        checkObject(bp, bv);
        fields(`${bp}.`, bv, { Propagation: check.string });
      },
      VolumeOptions: (vp, vv) => {
        checkObject(vp, vv);
        fields(`${vp}.`, vv, { NoCopy: check.bool, Labels: check.stringMap });
      },
      TmpfsOptions: (tp, tv) => {
        checkObject(tp, tv);
        fields(`${tp}.`, tv, { SizeBytes: int(0), Mode: int(0, 0o7777) });
      },
    });
  });
};

const throttles: Checker = (path, v) => {
  if (!Array.isArray(v)) fail(path, 'a list of {Path, Rate}', v);
  v.forEach((d: unknown, i: number) => {
    checkObject(`${path}[${i}]`, d);
    check.string(`${path}[${i}].Path`, d['Path']);
    check.int(`${path}[${i}].Rate`, d['Rate'], 1);
  });
};

const ulimits: Checker = (path, v) => {
  if (!Array.isArray(v)) fail(path, 'a list of {Name, Soft, Hard}', v);
  v.forEach((u: unknown, i: number) => {
    checkObject(`${path}[${i}]`, u);
    check.string(`${path}[${i}].Name`, u['Name']);
    check.int(`${path}[${i}].Soft`, u['Soft'], -1);
    check.int(`${path}[${i}].Hard`, u['Hard'], -1);
  });
};

/** Docker's [height, width] of the terminal; [0, 0] is no size. */
const consoleSize: Checker = (path, v) => {
  if (!Array.isArray(v) || v.length !== 2) fail(path, '[height, width]', v);
  v.forEach((n: unknown, i: number) => {
    check.int(`${path}[${i}]`, n, 0, 65535);
  });
};

const hostConfig: Checker = (path, v) => {
  checkObject(path, v);
  fields(`${path}.`, v, {
    Binds: check.strings,
    Mounts: mounts,
    Tmpfs: check.stringMap,
    ReadonlyRootfs: check.bool,
    PortBindings: portBindings,
    PublishAllPorts: check.bool,
    NetworkMode: check.string,
    Dns: check.strings,
    DnsSearch: check.strings,
    DnsOptions: check.strings,
    ExtraHosts: check.strings,
    RestartPolicy: restartPolicy,
    AutoRemove: check.bool,
    Memory: int(0),
    MemorySwap: int(-1),
    MemoryReservation: int(0),
    CpuShares: int(0),
    NanoCpus: int(0),
    CpuPeriod: int(0),
    CpuQuota: int(-1),
    CpusetCpus: check.string,
    CpusetMems: check.string,
    PidsLimit: int(-1),
    BlkioWeight: int(0, 1000),
    BlkioDeviceReadBps: throttles,
    BlkioDeviceWriteBps: throttles,
    Ulimits: ulimits,
    Init: check.bool,
    CapAdd: check.strings,
    CapDrop: check.strings,
    Privileged: check.bool,
    SecurityOpt: check.strings,
    GroupAdd: check.strings,
    ShmSize: int(0),
    Sysctls: check.stringMap,
    UsernsMode: check.string,
    IpcMode: check.string,
    PidMode: check.string,
    UTSMode: check.string,
    LogConfig: (lp, lv) => {
      checkObject(lp, lv);
      fields(`${lp}.`, lv, { Type: check.string, Config: check.stringMap });
      try {
        parseLogRotation(lv);
      } catch (err) {
        if (!(err instanceof LogOptionError)) throw err;
        throw new CreateSpecError(`invalid container spec: ${lp}: ${err.message}`);
      }
    },
    OomScoreAdj: int(-1000, 1000),
    ConsoleSize: consoleSize,
  });
  if (v['AutoRemove'] === true) {
    const name = (v['RestartPolicy'] as Json | undefined)?.['Name'];
    if (name !== undefined && name !== '' && name !== 'no')
      throw new CreateSpecError('conflicting options: cannot combine --restart and --rm (AutoRemove)');
  }
};

const networkingConfig: Checker = (path, v) => {
  checkObject(path, v);
  const endpoints = v['EndpointsConfig'];
  if (endpoints === undefined || endpoints === null) return;
  checkObject(`${path}.EndpointsConfig`, endpoints);
  for (const [network, e] of Object.entries(endpoints)) {
    const p = `${path}.EndpointsConfig["${network}"]`;
    if (e === null) continue;
    checkObject(p, e);
    fields(`${p}.`, e, {
      IPAMConfig: (ip, iv) => {
        checkObject(ip, iv);
        fields(`${ip}.`, iv, { IPv4Address: check.string });
      },
      Aliases: check.strings,
      MacAddress: check.string,
    });
  }
};

/** Docker's validateHealthCheck: a known test kind, durations of 1ms or more (0: the default). */
const healthcheck: Checker = (path, v) => {
  checkObject(path, v);
  const duration: Checker = (p, d) => {
    check.int(p, d, 0);
    if ((d as number) !== 0 && (d as number) < 1e6) fail(p, 'at least 1ms (1000000 ns) or 0', d);
  };
  fields(`${path}.`, v, {
    Test: (p, t) => {
      check.strings(p, t);
      const [kind, ...words] = t as string[];
      if (kind === undefined) return; // inherits the image's
      if (kind === 'NONE' ? words.length > 0 : kind !== 'CMD' && kind !== 'CMD-SHELL')
        fail(p, '["NONE"], ["CMD", ...] or ["CMD-SHELL", "command"]', t);
      if (kind !== 'NONE' && words.length === 0) fail(p, `${kind} followed by a command`, t);
    },
    Interval: duration,
    Timeout: duration,
    StartPeriod: duration,
    StartInterval: duration,
    Retries: int(0),
  });
};

const TOP_LEVEL: Record<string, Checker> = {
  Image: check.string,
  Hostname: check.string,
  Domainname: check.string,
  User: check.string,
  Env: check.strings,
  Cmd: check.strings,
  Entrypoint: check.strings,
  WorkingDir: check.string,
  Labels: check.stringMap,
  ExposedPorts: exposedPorts,
  Tty: check.bool,
  OpenStdin: check.bool,
  StdinOnce: check.bool,
  AttachStdin: check.bool,
  AttachStdout: check.bool,
  AttachStderr: check.bool,
  StopSignal: check.string,
  StopTimeout: int(-1),
  Healthcheck: healthcheck,
  HostConfig: hostConfig,
  NetworkingConfig: networkingConfig,
};

/** Parses and validates a create body; throws CreateSpecError with one line naming the bad field. */
export function parseCreateSpec(json: string): ContainerCreateSpec {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch (err) {
    throw new CreateSpecError(`invalid container spec: not JSON: ${(err as Error).message}`);
  }
  if (!isObject(parsed)) fail('the body', 'an object', parsed);
  fields('', parsed, TOP_LEVEL);
  if (typeof parsed['Image'] !== 'string' || parsed['Image'] === '')
    throw new CreateSpecError('invalid container spec: Image is required');
  // Go drops nulls; so does the record, so that `?? default` reads hold everywhere after this point.
  return JSON.parse(JSON.stringify(parsed, (_k, v) => (v === null ? undefined : v))) as ContainerCreateSpec;
}
