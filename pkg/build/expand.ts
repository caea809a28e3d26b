// What dockerfile-ast leaves to the builder: Docker's word processing (quotes, escapes, `$VAR` and `${VAR...}`
// substitution, BuildKit's shell/lex.go), the scope of ARG and ENV per stage (global ARGs before the first FROM,
// predefined proxy and platform ARGs, --build-arg), which instructions expand at all, and the stages a build
// needs (`--target`, `FROM stage`, `COPY --from=N|name`; the others are skipped as BuildKit skips them).
import { DockerfileError, type Instruction, type ParsedDockerfile } from './dockerfile.ts';

export type Lookup = (name: string) => string | undefined;

/** A word that cannot be expanded (unterminated quote, bad substitution, `${X:?message}`). */
export class ExpansionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ExpansionError';
  }
}

/**
 * One word as Docker's ProcessWord reads it: quotes removed ('...' literal, "..." with `$` expansion and the
 * escapes \" \$ \\), the escape character taking the next character literally, `$NAME`, `${NAME}`, and the
 * modifiers `-` `:-` `+` `:+` `?` `:?`. An unset variable expands to nothing.
 */
export function expandWord(word: string, lookup: Lookup, escapeChar: '\\' | '`' = '\\'): string {
  const lexer = new WordLexer(word, lookup, escapeChar);
  return lexer.processUntil(undefined);
}

class WordLexer {
  #pos = 0;
  constructor(
    private readonly text: string,
    private readonly lookup: Lookup,
    private readonly escapeChar: string,
  ) {}

  /** Reads until `stop` (consumed) or the end. */
  processUntil(stop: string | undefined): string {
    let out = '';
    while (this.#pos < this.text.length) {
      const ch = this.text[this.#pos] as string;
      if (stop !== undefined && ch === stop) {
        this.#pos++;
        return out;
      }
      this.#pos++;
      if (ch === "'") out += this.#singleQuoted();
      else if (ch === '"') out += this.#doubleQuoted();
      else if (ch === this.escapeChar) {
        if (this.#pos < this.text.length) out += this.text[this.#pos++];
      } else if (ch === '$') out += this.#dollar();
      else out += ch;
    }
    if (stop !== undefined) throw new ExpansionError(`${JSON.stringify(this.text)}: missing '${stop}'`);
    return out;
  }

  #singleQuoted(): string {
    const end = this.text.indexOf("'", this.#pos);
    if (end < 0)
      throw new ExpansionError(
        `${JSON.stringify(this.text)}: unexpected end while looking for matching single-quote`,
      );
    const value = this.text.slice(this.#pos, end);
    this.#pos = end + 1;
    return value;
  }

  #doubleQuoted(): string {
    let out = '';
    while (this.#pos < this.text.length) {
      const ch = this.text[this.#pos++] as string;
      if (ch === '"') return out;
      if (ch === '$') out += this.#dollar();
      else if (ch === this.escapeChar) {
        const next = this.text[this.#pos];
        // Only these may be escaped inside double quotes; any other escape character stays as written.
        if (next === '"' || next === '$' || next === this.escapeChar) {
          out += next;
          this.#pos++;
        } else if (next !== undefined) out += ch;
      } else out += ch;
    }
    throw new ExpansionError(
      `${JSON.stringify(this.text)}: unexpected end while looking for matching double-quote`,
    );
  }

  #dollar(): string {
    const next = this.text[this.#pos];
    if (next === '{') {
      this.#pos++;
      return this.#braced();
    }
    const name = this.#name();
    if (name === '') return '$'; // `$` before a non-name character is literal
    return this.lookup(name) ?? '';
  }

  #name(): string {
    const rest = this.text.slice(this.#pos);
    // Docker reads `$1` as the one-digit positional name, then letters, digits and underscores.
    const match = /^[0-9]/.test(rest) ? /^[0-9]/.exec(rest) : /^[a-zA-Z_][a-zA-Z0-9_]*/.exec(rest);
    const name = match?.[0] ?? '';
    this.#pos += name.length;
    return name;
  }

  #braced(): string {
    const name = this.#name();
    if (name === '') throw new ExpansionError(`${JSON.stringify(this.text)}: bad substitution`);
    const value = this.lookup(name);
    if (this.text[this.#pos] === '}') {
      this.#pos++;
      return value ?? '';
    }
    if (this.#pos >= this.text.length) throw new ExpansionError(`${JSON.stringify(this.text)}: missing '}'`);
    let modifier = this.text[this.#pos++] ?? '';
    if (modifier === ':') modifier += this.text[this.#pos++] ?? '';
    if (!['-', ':-', '+', ':+', '?', ':?'].includes(modifier))
      throw new ExpansionError(
        `${JSON.stringify(this.text)}: unsupported modifier ${JSON.stringify(modifier)} in substitution`,
      );
    const word = this.processUntil('}');
    const set = modifier.startsWith(':') ? value !== undefined && value !== '' : value !== undefined;
    switch (modifier.slice(-1)) {
      case '-':
        return set ? (value as string) : word;
      case '+':
        return set ? word : '';
      default:
        if (!set) throw new ExpansionError(`${name}: ${word || 'is not allowed to be unset'}`);
        return value as string;
    }
  }
}

/** ARGs every build has without declaring them in the global scope (BuildKit's platform args). */
export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
}

/** Usable inside a stage from --build-arg without an ARG (Docker's predefined ARGs). */
const PREDEFINED_ARGS = new Set([
  'HTTP_PROXY',
  'http_proxy',
  'HTTPS_PROXY',
  'https_proxy',
  'FTP_PROXY',
  'ftp_proxy',
  'NO_PROXY',
  'no_proxy',
  'ALL_PROXY',
  'all_proxy',
]);

export function platformArgs(target: Platform, build: Platform = target): Record<string, string> {
  const spec = (p: Platform) => `${p.os}/${p.architecture}${p.variant ? `/${p.variant}` : ''}`;
  return {
    TARGETPLATFORM: spec(target),
    TARGETOS: target.os,
    TARGETARCH: target.architecture,
    TARGETVARIANT: target.variant ?? '',
    BUILDPLATFORM: spec(build),
    BUILDOS: build.os,
    BUILDARCH: build.architecture,
    BUILDVARIANT: build.variant ?? '',
  };
}

export interface BuildArgsOptions {
  buildArgs?: Readonly<Record<string, string>>;
  platform?: Platform;
}

/** The ARGs declared before the first FROM, with --build-arg applied: what FROM lines may use. */
export function globalArgs(
  df: ParsedDockerfile,
  options: BuildArgsOptions = {},
): Map<string, string | undefined> {
  const buildArgs = options.buildArgs ?? {};
  const scope = new Map<string, string | undefined>(
    Object.entries(options.platform ? platformArgs(options.platform) : {}),
  );
  for (const instr of df.instructions) {
    if (instr.kind === 'FROM') break;
    if (instr.kind !== 'ARG') continue;
    for (const arg of instr.args) {
      const fallback =
        arg.default === undefined ? undefined : expandAt(df, instr.line, arg.default, (n) => scope.get(n));
      scope.set(arg.name, buildArgs[arg.name] ?? fallback);
    }
  }
  return scope;
}

function expandAt(df: ParsedDockerfile, line: number, word: string, lookup: Lookup): string {
  try {
    return expandWord(word, lookup, df.escape);
  } catch (err) {
    if (err instanceof ExpansionError) throw new DockerfileError(df.file, line, err.message);
    throw err;
  }
}

/**
 * The variables of one stage while it is built: ENV (from the base image, then ENV instructions) wins over
 * ARG, as Docker documents; an ARG is visible from its declaration on, with --build-arg over its default, and
 * `ARG NAME` without a default takes the global ARG's value.
 */
export class StageScope {
  readonly #env = new Map<string, string>();
  readonly #args = new Map<string, string>();

  constructor(
    private readonly df: ParsedDockerfile,
    private readonly globals: ReadonlyMap<string, string | undefined>,
    private readonly buildArgs: Readonly<Record<string, string>>,
    /** The base image's Env, `KEY=value` strings. */
    imageEnv: readonly string[] = [],
    private readonly consumed: Set<string> = new Set(),
  ) {
    for (const entry of imageEnv) {
      const eq = entry.indexOf('=');
      this.#env.set(eq < 0 ? entry : entry.slice(0, eq), eq < 0 ? '' : entry.slice(eq + 1));
    }
    for (const name of PREDEFINED_ARGS) {
      const value = buildArgs[name];
      if (value !== undefined) {
        this.#args.set(name, value);
        consumed.add(name);
      }
    }
  }

  lookup: Lookup = (name) => this.#env.get(name) ?? this.#args.get(name);

  expand(line: number, word: string): string {
    return expandAt(this.df, line, word, this.lookup);
  }

  /** `KEY=value` for a RUN: the stage's ENV plus its ARGs (which are not kept in the image). */
  runEnv(): string[] {
    const merged = new Map(this.#args);
    for (const [k, v] of this.#env) merged.set(k, v);
    return [...merged].map(([k, v]) => `${k}=${v}`);
  }

  /** The ARGs in effect (they are part of a RUN's cache key, as Docker's are). */
  args(): ReadonlyMap<string, string> {
    return this.#args;
  }

  /**
   * Returns the instruction with the words Docker expands expanded (ADD, COPY, ENV, EXPOSE, LABEL, STOPSIGNAL,
   * USER, VOLUME, WORKDIR, ARG defaults; RUN, CMD, ENTRYPOINT, SHELL and HEALTHCHECK are the shell's), and
   * records what ARG and ENV declare.
   */
  apply(instr: Instruction): Instruction {
    const x = (word: string) => this.expand(instr.line, word);
    switch (instr.kind) {
      case 'ARG':
        for (const arg of instr.args) {
          this.consumed.add(arg.name);
          const given = this.buildArgs[arg.name];
          const value =
            given ?? (arg.default !== undefined ? x(arg.default) : (this.globals.get(arg.name) ?? undefined));
          if (value !== undefined) this.#args.set(arg.name, value);
          else this.#args.delete(arg.name);
        }
        return instr;
      case 'ENV': {
        // Every value is expanded with the variables before this instruction (`ENV A=1 B=$A` sees the old A).
        const pairs = instr.pairs.map((p) => ({ key: x(p.key), value: x(p.value) }));
        for (const p of pairs) this.#env.set(p.key, p.value);
        return { ...instr, pairs };
      }
      case 'LABEL':
        return { ...instr, pairs: instr.pairs.map((p) => ({ key: x(p.key), value: x(p.value) })) };
      case 'WORKDIR':
      case 'USER':
      case 'STOPSIGNAL':
        return { ...instr, value: x(instr.value) };
      case 'EXPOSE':
      case 'VOLUME':
        return { ...instr, values: instr.values.map(x) };
      case 'COPY':
      case 'ADD': {
        const heredocs = instr.heredocs.map((h) => (h.expand ? { ...h, content: x(h.content) } : h));
        return {
          ...instr,
          sources: instr.sources.map((s) => (s.startsWith('<<') ? s : x(s))),
          dest: x(instr.dest),
          ...(instr.from !== undefined ? { from: x(instr.from) } : {}),
          ...(instr.chown !== undefined ? { chown: x(instr.chown) } : {}),
          ...(instr.chmod !== undefined ? { chmod: x(instr.chmod) } : {}),
          heredocs,
        };
      }
      default:
        return instr;
    }
  }
}

/** Where a stage starts from, or where COPY --from copies from. */
export type SourceRef =
  | { kind: 'scratch' }
  | { kind: 'image'; ref: string }
  | { kind: 'stage'; index: number };

export interface Stage {
  index: number;
  /** `AS name`, lower-cased as Docker compares it. */
  name?: string;
  /** The FROM line. */
  line: number;
  base: SourceRef;
  platform?: string;
  /** The instructions after FROM, unexpanded (StageScope.apply expands them as the build reaches them). */
  instructions: Instruction[];
  /** Stages this one needs first (its base and its COPY --from stages). */
  needs: number[];
}

export interface BuildPlanOptions extends BuildArgsOptions {
  /** --target: a stage name; the last stage when absent. */
  target?: string;
}

export interface BuildPlan {
  /** Every stage of the file, in order. */
  stages: Stage[];
  /** Indexes of the stages to build, in the order to build them (the target last). */
  order: number[];
  target: Stage;
  globals: Map<string, string | undefined>;
}

/** Splits the file into stages, resolves FROM and COPY --from references, and picks what --target needs. */
export function planBuild(df: ParsedDockerfile, options: BuildPlanOptions = {}): BuildPlan {
  const globals = globalArgs(df, options);
  const lookupGlobal: Lookup = (n) => globals.get(n);
  const stages: Stage[] = [];
  const fail = (line: number, message: string): never => {
    throw new DockerfileError(df.file, line, message);
  };
  const stageRef = (ref: string, line: number, current: number): number | undefined => {
    if (/^\d+$/.test(ref)) {
      const index = Number(ref);
      if (index >= current)
        fail(line, `invalid stage index ${ref}: only earlier stages (0..${current - 1}) can be used`);
      return index;
    }
    const found = stages.find((s) => s.name === ref.toLowerCase());
    return found?.index;
  };
  for (const instr of df.instructions) {
    if (instr.kind === 'FROM') {
      const index = stages.length;
      const image = expandAt(df, instr.line, instr.image, lookupGlobal);
      if (image === '') fail(instr.line, `FROM ${instr.image}: the image name is empty after expansion`);
      if (instr.stageName !== undefined && stages.some((s) => s.name === instr.stageName))
        fail(instr.line, `duplicate stage name ${JSON.stringify(instr.stageName)}`);
      const fromStage = /^\d+$/.test(image) ? undefined : stageRef(image, instr.line, index);
      const base: SourceRef =
        fromStage !== undefined
          ? { kind: 'stage', index: fromStage }
          : image.toLowerCase() === 'scratch'
            ? { kind: 'scratch' }
            : { kind: 'image', ref: image };
      const platform =
        instr.platform !== undefined ? expandAt(df, instr.line, instr.platform, lookupGlobal) : undefined;
      stages.push({
        index,
        ...(instr.stageName !== undefined ? { name: instr.stageName } : {}),
        line: instr.line,
        base,
        ...(platform !== undefined ? { platform } : {}),
        instructions: [],
        needs: fromStage !== undefined ? [fromStage] : [],
      });
      continue;
    }
    const stage = stages[stages.length - 1];
    if (!stage) continue; // ARG before the first FROM: in globals
    stage.instructions.push(instr);
    if (instr.kind === 'COPY' && instr.from !== undefined) {
      // --from is resolved with the global ARGs: a stage's own ARGs are not known before it runs.
      const ref = expandAt(df, instr.line, instr.from, lookupGlobal);
      const index = stageRef(ref, instr.line, stage.index);
      if (index !== undefined && !stage.needs.includes(index)) stage.needs.push(index);
    }
  }
  let target = stages[stages.length - 1] as Stage;
  if (options.target !== undefined) {
    const named = stages.find((s) => s.name === options.target?.toLowerCase());
    if (!named)
      throw new DockerfileError(
        df.file,
        1,
        `target stage ${JSON.stringify(options.target)} could not be found`,
      );
    target = named;
  }
  const order: number[] = [];
  const visit = (index: number) => {
    if (order.includes(index)) return;
    for (const need of (stages[index] as Stage).needs) visit(need);
    order.push(index);
  };
  visit(target.index);
  order.sort((a, b) => a - b); // every need is an earlier stage: file order is a valid build order
  return { stages, order, target, globals };
}

/** What `COPY --from=REF` names in stage `current`: an earlier stage, or an image. */
export function resolveCopyFrom(plan: BuildPlan, ref: string, current: number): SourceRef {
  if (/^\d+$/.test(ref)) return { kind: 'stage', index: Number(ref) };
  const stage = plan.stages.find((s) => s.name === ref.toLowerCase() && s.index < current);
  if (stage) return { kind: 'stage', index: stage.index };
  return ref.toLowerCase() === 'scratch' ? { kind: 'scratch' } : { kind: 'image', ref };
}

/** --build-arg names no built stage declared (Docker warns about them). */
export function unconsumedBuildArgs(
  buildArgs: Readonly<Record<string, string>>,
  globals: ReadonlyMap<string, string | undefined>,
  consumed: ReadonlySet<string>,
): string[] {
  return Object.keys(buildArgs)
    .filter((k) => !consumed.has(k) && !globals.has(k) && !PREDEFINED_ARGS.has(k))
    .sort();
}
