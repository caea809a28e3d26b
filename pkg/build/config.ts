// How the metadata instructions change an image config, by Docker's rules (moby's dispatchers and BuildKit's
// dispatch.go agree on these): shell forms run under the stage's SHELL, ENTRYPOINT clears a CMD the stage did
// not set itself, WORKDIR is relative to the previous one, EXPOSE normalises to PORT/PROTO, HEALTHCHECK keeps
// durations in nanoseconds. Also the history entry of each instruction and `commit -c`'s changes.
import { posix } from 'node:path';
import { byCodeUnits } from '../text/order.ts';
import { type CommandForm, DockerfileError, type Instruction, parseDockerfile } from './dockerfile.ts';
import { StageScope } from './expand.ts';

/** Docker's healthcheck config (durations in nanoseconds; 0 means the default). */
export interface HealthConfig {
  Test: string[];
  Interval?: number;
  Timeout?: number;
  StartPeriod?: number;
  StartInterval?: number;
  Retries?: number;
}

/** The `config` object of an image config, with Docker's extensions (Healthcheck, Shell, OnBuild). */
export interface ImageRuntimeConfig {
  User?: string;
  ExposedPorts?: Record<string, Record<string, never>>;
  Env?: string[];
  Entrypoint?: string[] | null;
  Cmd?: string[] | null;
  Volumes?: Record<string, Record<string, never>>;
  WorkingDir?: string;
  Labels?: Record<string, string>;
  StopSignal?: string;
  Healthcheck?: HealthConfig;
  Shell?: string[];
  OnBuild?: string[];
}

export interface HistoryEntry {
  created: string;
  created_by: string;
  author?: string;
  comment?: string;
  empty_layer?: boolean;
}

export const DEFAULT_SHELL: readonly string[] = ['/bin/sh', '-c'];

/** The instructions that only change the config (no layer). */
const METADATA_KINDS = new Set<Instruction['kind']>([
  'ENV',
  'LABEL',
  'ARG',
  'WORKDIR',
  'USER',
  'STOPSIGNAL',
  'MAINTAINER',
  'EXPOSE',
  'VOLUME',
  'ENTRYPOINT',
  'CMD',
  'SHELL',
  'HEALTHCHECK',
  'ONBUILD',
]);

export function changesConfigOnly(instr: Instruction): boolean {
  return METADATA_KINDS.has(instr.kind);
}

/** One stage's config as its instructions change it. */
export class StageConfig {
  readonly config: ImageRuntimeConfig;
  author?: string;
  /** CMD set by this stage (an ENTRYPOINT then keeps it). */
  #cmdSet = false;

  constructor(
    base: ImageRuntimeConfig = {},
    private readonly file = 'Dockerfile',
  ) {
    this.config = structuredClone(base);
  }

  shell(): string[] {
    return [...(this.config.Shell ?? DEFAULT_SHELL)];
  }

  /** The argv a RUN (or CMD, ENTRYPOINT) command means in this stage. */
  argv(command: CommandForm): string[] {
    return command.form === 'exec' ? [...command.args] : [...this.shell(), command.command];
  }

  /** Applies an expanded metadata instruction (others are ignored: they change the filesystem). */
  apply(instr: Instruction): void {
    const c = this.config;
    const fail = (message: string): never => {
      throw new DockerfileError(this.file, instr.line, message);
    };
    switch (instr.kind) {
      case 'ENV':
        for (const { key, value } of instr.pairs) c.Env = setEnv(c.Env ?? [], key, value);
        return;
      case 'LABEL':
        c.Labels = { ...c.Labels, ...Object.fromEntries(instr.pairs.map((p) => [p.key, p.value])) };
        return;
      case 'WORKDIR':
        c.WorkingDir = resolveWorkdir(c.WorkingDir, instr.value);
        return;
      case 'USER':
        if (instr.value === '') fail('USER requires a user name or UID');
        c.User = instr.value;
        return;
      case 'STOPSIGNAL':
        if (!/^(SIG)?[A-Z0-9+-]+$/i.test(instr.value) || /^0+$/.test(instr.value))
          fail(`STOPSIGNAL: invalid signal ${JSON.stringify(instr.value)}`);
        c.StopSignal = instr.value;
        return;
      case 'MAINTAINER':
        this.author = instr.value;
        return;
      case 'EXPOSE':
        for (const spec of instr.values)
          for (const port of exposedPorts(spec, fail)) c.ExposedPorts = { ...c.ExposedPorts, [port]: {} };
        return;
      case 'VOLUME':
        for (const path of instr.values) c.Volumes = { ...c.Volumes, [path]: {} };
        return;
      case 'CMD':
        c.Cmd = this.argv(instr.command);
        this.#cmdSet = true;
        return;
      case 'ENTRYPOINT':
        c.Entrypoint = this.argv(instr.command);
        // Docker: an ENTRYPOINT resets a CMD inherited from the base image, not one set in this stage.
        if (!this.#cmdSet) c.Cmd = null;
        return;
      case 'SHELL':
        c.Shell = [...instr.shell];
        return;
      case 'HEALTHCHECK':
        c.Healthcheck = healthConfig(instr.test, fail);
        return;
      case 'ONBUILD':
        c.OnBuild = [...(c.OnBuild ?? []), instr.trigger];
        return;
      default:
        return;
    }
  }
}

function setEnv(env: string[], key: string, value: string): string[] {
  const entry = `${key}=${value}`;
  const at = env.findIndex((e) => e === key || e.startsWith(`${key}=`));
  if (at < 0) return [...env, entry];
  const next = [...env];
  next[at] = entry;
  return next;
}

/** WORKDIR: absolute, or relative to the previous working directory; cleaned as Go's filepath.Clean does. */
export function resolveWorkdir(current: string | undefined, path: string): string {
  return posix.resolve(current && current !== '' ? current : '/', path);
}

/** `80`, `80/udp`, `8000-8002/tcp` → `PORT/proto` keys. */
function exposedPorts(spec: string, fail: (m: string) => never): string[] {
  const m = /^(\d{1,5})(?:-(\d{1,5}))?(?:\/([a-zA-Z]+))?$/.exec(spec);
  if (!m) return fail(`EXPOSE: invalid port ${JSON.stringify(spec)}`);
  const proto = (m[3] ?? 'tcp').toLowerCase();
  if (!['tcp', 'udp', 'sctp'].includes(proto)) fail(`EXPOSE: invalid protocol ${JSON.stringify(m[3])}`);
  const first = Number(m[1]);
  const last = m[2] !== undefined ? Number(m[2]) : first;
  if (first < 1 || last > 65535 || last < first) fail(`EXPOSE: invalid port range ${JSON.stringify(spec)}`);
  const ports: string[] = [];
  for (let p = first; p <= last; p++) ports.push(`${p}/${proto}`);
  return ports;
}

const DURATION_UNITS: Record<string, number> = {
  ns: 1,
  us: 1e3,
  µs: 1e3,
  ms: 1e6,
  s: 1e9,
  m: 60e9,
  h: 3600e9,
};

/** Go's time.ParseDuration (positive values), in nanoseconds. */
export function parseDuration(text: string): number {
  const parts = [...text.matchAll(/(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== text)
    throw new Error(`invalid duration ${JSON.stringify(text)}`);
  return Math.round(parts.reduce((sum, p) => sum + Number(p[1]) * (DURATION_UNITS[p[2] as string] ?? 0), 0));
}

function healthConfig(
  test: Extract<Instruction, { kind: 'HEALTHCHECK' }>['test'],
  fail: (m: string) => never,
): HealthConfig {
  if (test === 'NONE') return { Test: ['NONE'] };
  const { command, options } = test;
  const health: HealthConfig = {
    Test: command.form === 'exec' ? ['CMD', ...command.args] : ['CMD-SHELL', command.command],
  };
  for (const [key, field] of [
    ['interval', 'Interval'],
    ['timeout', 'Timeout'],
    ['startPeriod', 'StartPeriod'],
    ['startInterval', 'StartInterval'],
  ] as const) {
    const value = options[key];
    if (value === undefined) continue;
    const ns = parseDuration(value);
    // Docker's minimum for every healthcheck duration (0 keeps the default).
    if (ns !== 0 && ns < 1e6) fail(`HEALTHCHECK: ${key} cannot be less than 1ms`);
    health[field] = ns;
  }
  if (options.retries !== undefined) {
    const retries = Number(options.retries);
    if (retries < 1) fail('HEALTHCHECK: --retries must be at least 1');
    health.Retries = retries;
  }
  return health;
}

/**
 * The history entry Docker's builder writes: `/bin/sh -c #(nop)  INSTR args` for a config change, the shell
 * command line for a RUN (prefixed `|N K=V ...` with the build args in effect, as the classic builder does),
 * `#(nop) COPY what in DEST` for a copy. `sources` names what was copied (e.g. `file:<hash>`, `dir:<hash>`).
 */
export function historyEntry(
  instr: Instruction,
  options: {
    created: Date;
    shell?: readonly string[];
    args?: ReadonlyMap<string, string>;
    sources?: string;
    emptyLayer?: boolean;
    author?: string;
  },
): HistoryEntry {
  const shell = (options.shell ?? DEFAULT_SHELL).join(' ');
  let createdBy: string;
  if (instr.kind === 'RUN') {
    const args = [...(options.args ?? new Map())].sort(([a], [b]) => byCodeUnits(a, b));
    const prefix = args.length > 0 ? `|${args.length} ${args.map(([k, v]) => `${k}=${v}`).join(' ')} ` : '';
    const command =
      instr.command.form === 'exec' ? instr.command.args.join(' ') : `${shell} ${instr.command.command}`;
    createdBy = `${prefix}${command}`;
  } else if (instr.kind === 'COPY' || instr.kind === 'ADD') {
    createdBy = `${shell} #(nop) ${instr.kind} ${options.sources ?? instr.sources.join(' ')} in ${instr.dest} `;
  } else {
    createdBy = `${shell} #(nop)  ${instr.text.replace(/\s*\n\s*/g, ' ')}`;
  }
  const emptyLayer = options.emptyLayer ?? changesConfigOnly(instr);
  return {
    created: options.created.toISOString(),
    created_by: createdBy,
    ...(options.author !== undefined ? { author: options.author } : {}),
    ...(emptyLayer ? { empty_layer: true } : {}),
  };
}

/** The instructions `commit -c` accepts (Docker's list). */
const COMMIT_CHANGE_KINDS = new Set<Instruction['kind']>([
  'CMD',
  'ENTRYPOINT',
  'ENV',
  'EXPOSE',
  'LABEL',
  'ONBUILD',
  'USER',
  'VOLUME',
  'WORKDIR',
]);

/** A `commit -c` change that is not a supported instruction. */
export class ChangeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ChangeError';
  }
}

/**
 * `commit -c INSTRUCTION` changes applied in order to a container's config, with the same parser and rules as a
 * Dockerfile (variables expand against the config's Env, as Docker's commit does).
 */
export function applyCommitChanges(base: ImageRuntimeConfig, changes: readonly string[]): ImageRuntimeConfig {
  const stage = new StageConfig(base, 'change');
  for (const change of changes) {
    let instr: Instruction;
    try {
      const parsed = parseDockerfile(`FROM scratch\n${change.replace(/\n/g, ' ')}\n`, 'change');
      const only = parsed.instructions.slice(1);
      if (only.length !== 1)
        throw new ChangeError(`invalid change ${JSON.stringify(change)}: expected one instruction`);
      const scope = new StageScope(parsed, new Map(), {}, stage.config.Env ?? []);
      instr = scope.apply(only[0] as Instruction);
    } catch (err) {
      if (err instanceof DockerfileError) {
        throw new ChangeError(
          `invalid change ${JSON.stringify(change)}: ${err.message.replace(/^change:\d+: /, '')}`,
        );
      }
      throw err;
    }
    if (!COMMIT_CHANGE_KINDS.has(instr.kind))
      throw new ChangeError(
        `invalid change ${JSON.stringify(change)}: ${instr.kind} is not allowed (${[...COMMIT_CHANGE_KINDS].join(', ')})`,
      );
    try {
      stage.apply(instr);
    } catch (err) {
      if (err instanceof DockerfileError)
        throw new ChangeError(
          `invalid change ${JSON.stringify(change)}: ${err.message.replace(/^change:\d+: /, '')}`,
        );
      throw err;
    }
  }
  return stage.config;
}
