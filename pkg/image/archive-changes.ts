// `import --change`: the Dockerfile instructions Docker accepts there (CMD, ENTRYPOINT, ENV, EXPOSE, LABEL,
// USER, VOLUME, WORKDIR, STOPSIGNAL), applied to an image config's `config` object.
import { ArchiveError } from './archive-stage.ts';

/** The runtime part of an image config (the OCI/Docker `config` object), as far as changes touch it. */
export interface ContainerConfig {
  Cmd?: string[];
  Entrypoint?: string[];
  Env?: string[];
  ExposedPorts?: Record<string, Record<string, never>>;
  Labels?: Record<string, string>;
  User?: string;
  Volumes?: Record<string, Record<string, never>>;
  WorkingDir?: string;
  StopSignal?: string;
}

/** Applies `changes` in order; a clear error names the first one that is not a supported instruction. */
export function applyChanges(changes: readonly string[], base: ContainerConfig = {}): ContainerConfig {
  const config: ContainerConfig = structuredClone(base);
  for (const change of changes) {
    const match = /^\s*([A-Za-z]+)\s+([\s\S]*\S)\s*$/.exec(change);
    if (!match) throw changeError(change, 'expected INSTRUCTION ARGUMENTS, e.g. CMD ["sh"]');
    const instruction = match[1]!.toUpperCase();
    const args = match[2]!;
    switch (instruction) {
      case 'CMD':
        config.Cmd = commandOf(args, change);
        break;
      case 'ENTRYPOINT':
        config.Entrypoint = commandOf(args, change);
        break;
      case 'ENV':
        for (const [key, value] of pairsOf(args, change, true)) {
          config.Env = [...(config.Env ?? []).filter((e) => !e.startsWith(`${key}=`)), `${key}=${value}`];
        }
        break;
      case 'LABEL':
        for (const [key, value] of pairsOf(args, change, false))
          config.Labels = { ...config.Labels, [key]: value };
        break;
      case 'EXPOSE':
        for (const port of words(args, change)) {
          const m = /^(\d{1,5})(?:\/(tcp|udp|sctp))?$/i.exec(port);
          if (!m || Number(m[1]) > 65535) throw changeError(change, `invalid port ${JSON.stringify(port)}`);
          config.ExposedPorts = { ...config.ExposedPorts, [`${m[1]}/${(m[2] ?? 'tcp').toLowerCase()}`]: {} };
        }
        break;
      case 'VOLUME':
        for (const path of args.trimStart().startsWith('[') ? jsonArray(args, change) : words(args, change))
          config.Volumes = { ...config.Volumes, [path]: {} };
        break;
      case 'USER':
        config.User = single(args, change);
        break;
      case 'WORKDIR':
        config.WorkingDir = single(args, change);
        break;
      case 'STOPSIGNAL':
        config.StopSignal = single(args, change);
        break;
      default:
        throw changeError(
          change,
          `${instruction} cannot be changed (CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, USER, VOLUME, WORKDIR, STOPSIGNAL can)`,
        );
    }
  }
  return config;
}

function changeError(change: string, reason: string): ArchiveError {
  return new ArchiveError(`invalid change ${JSON.stringify(change)}: ${reason}`);
}

/** The exec form (a JSON array) as it is; the shell form runs under /bin/sh -c, as in a Dockerfile. */
function commandOf(args: string, change: string): string[] {
  return args.trimStart().startsWith('[') ? jsonArray(args, change) : ['/bin/sh', '-c', args];
}

function jsonArray(args: string, change: string): string[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(args);
  } catch {
    throw changeError(change, 'not a JSON array of strings');
  }
  if (!Array.isArray(parsed) || !parsed.every((s) => typeof s === 'string'))
    throw changeError(change, 'not a JSON array of strings');
  return parsed;
}

function single(args: string, change: string): string {
  const [value, ...rest] = words(args, change);
  if (value === undefined || rest.length > 0) throw changeError(change, 'expected one value');
  return value;
}

/** `k=v k2="v 2"`; for ENV also the legacy `KEY value with spaces`. */
function pairsOf(args: string, change: string, legacyForm: boolean): [string, string][] {
  const tokens = words(args, change);
  if (legacyForm && tokens.length > 0 && !tokens[0]!.includes('=')) {
    const space = args.search(/\s/);
    if (space < 0) throw changeError(change, 'expected KEY=VALUE or KEY VALUE');
    return [[args.slice(0, space), args.slice(space).trim()]];
  }
  return tokens.map((token) => {
    const eq = token.indexOf('=');
    if (eq <= 0) throw changeError(change, `expected KEY=VALUE, got ${JSON.stringify(token)}`);
    return [token.slice(0, eq), token.slice(eq + 1)];
  });
}

/** Splits on unquoted whitespace; quotes group and are removed, a backslash escapes the next character. */
function words(args: string, change: string): string[] {
  const out: string[] = [];
  let current: string | undefined;
  let quote: '"' | "'" | undefined;
  for (let i = 0; i < args.length; i++) {
    const c = args[i]!;
    if (quote) {
      if (c === quote) quote = undefined;
      else if (c === '\\' && quote === '"' && i + 1 < args.length) current += args[++i]!;
      else current += c;
    } else if (c === '"' || c === "'") {
      quote = c;
      current ??= '';
    } else if (c === '\\' && i + 1 < args.length) {
      current = (current ?? '') + args[++i]!;
    } else if (/\s/.test(c)) {
      if (current !== undefined) out.push(current);
      current = undefined;
    } else {
      current = (current ?? '') + c;
    }
  }
  if (quote) throw changeError(change, 'unterminated quote');
  if (current !== undefined) out.push(current);
  return out;
}
