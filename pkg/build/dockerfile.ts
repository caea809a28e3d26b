// A Dockerfile as typed instructions, each with the line it starts on. dockerfile-ast does the lexing (comments,
// line continuations, the escape directive, heredocs); this module gives each instruction its shape and
// refuses what Docker refuses. Words stay unexpanded: variables and quotes are expand.ts's business, because
// what a `$X` means depends on the stage and the build arguments.
import { createRequire } from 'node:module';
import type {
  Instruction as AstInstruction,
  Copy,
  Flag,
  From,
  Heredoc,
  PropertyInstruction,
} from 'dockerfile-ast';

type DockerfileAst = typeof import('dockerfile-ast');

let dockerfileAst: DockerfileAst | undefined;

/**
 * dockerfile-ast, loaded on the first Dockerfile parsed: with its vscode-languageserver types it is 0.8 MB of
 * heap that an agent which never builds would carry from its start. Required from node_modules at run time,
 * as ip-num is (pkg/ip/ip-num.ts).
 */
function parser(): DockerfileAst['DockerfileParser'] {
  dockerfileAst ??= createRequire(import.meta.url)('dockerfile-ast') as DockerfileAst;
  return dockerfileAst.DockerfileParser;
}

/** A Dockerfile that cannot be built: the message starts with `NAME:LINE:` as Docker's errors do. */
export class DockerfileError extends Error {
  constructor(
    readonly file: string,
    readonly line: number,
    message: string,
  ) {
    super(`${file}:${line}: ${message}`);
    this.name = 'DockerfileError';
  }
}

/** `["a", "b"]` (exec form: no shell) or a command line the stage's SHELL runs. */
export type CommandForm = { form: 'exec'; args: string[] } | { form: 'shell'; command: string };

export interface HeredocBody {
  name: string;
  content: string;
  /** `<<"EOF"` and `<<'EOF'` turn variable expansion off. */
  expand: boolean;
  /** `<<-EOF` strips leading tabs. */
  stripTabs: boolean;
}

export interface KeyValue {
  key: string;
  /** Raw word: quotes and variables not processed yet. */
  value: string;
}

export interface HealthcheckOptions {
  interval?: string;
  timeout?: string;
  startPeriod?: string;
  startInterval?: string;
  retries?: string;
}

interface At {
  /** 1-based line of the instruction's keyword. */
  line: number;
  /** The instruction as written (continuations joined), for history and cache keys. */
  text: string;
}

export type Instruction = At &
  (
    | { kind: 'FROM'; image: string; stageName?: string; platform?: string }
    | { kind: 'RUN'; command: CommandForm; heredocs: HeredocBody[]; flags: Record<string, string> }
    | {
        kind: 'COPY' | 'ADD';
        sources: string[];
        dest: string;
        from?: string;
        chown?: string;
        chmod?: string;
        link: boolean;
        heredocs: HeredocBody[];
      }
    | { kind: 'ENV' | 'LABEL'; pairs: KeyValue[] }
    | { kind: 'ARG'; args: { name: string; default?: string }[] }
    | { kind: 'WORKDIR' | 'USER' | 'STOPSIGNAL' | 'MAINTAINER'; value: string }
    | { kind: 'EXPOSE' | 'VOLUME'; values: string[] }
    | { kind: 'ENTRYPOINT' | 'CMD'; command: CommandForm }
    | { kind: 'SHELL'; shell: string[] }
    | { kind: 'HEALTHCHECK'; test: 'NONE' | { command: CommandForm; options: HealthcheckOptions } }
    | { kind: 'ONBUILD'; trigger: string }
  );

export type InstructionKind = Instruction['kind'];

export interface ParsedDockerfile {
  file: string;
  escape: '\\' | '`';
  instructions: Instruction[];
}

const KEYWORDS = new Set<string>([
  'FROM',
  'RUN',
  'COPY',
  'ADD',
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

/** Which flags each instruction takes (Docker refuses any other). */
const FLAGS: Partial<Record<string, readonly string[]>> = {
  FROM: ['platform'],
  RUN: ['mount', 'network', 'security'],
  COPY: ['from', 'chown', 'chmod', 'link', 'parents', 'exclude'],
  ADD: ['chown', 'chmod', 'link', 'checksum', 'keep-git-dir', 'exclude'],
  HEALTHCHECK: ['interval', 'timeout', 'start-period', 'start-interval', 'retries'],
};

/** Parses `text` (the content of `file`, named in errors). */
export function parseDockerfile(text: string, file = 'Dockerfile'): ParsedDockerfile {
  const ast = parser().parse(text);
  const escapeChar = ast.getEscapeCharacter() === '`' ? '`' : '\\';
  const source = new SourceText(text);
  const instructions = ast.getInstructions().map((node) => toInstruction(node, file, source, escapeChar));
  const first = instructions.find((i) => i.kind !== 'ARG');
  if (instructions.length === 0) throw new DockerfileError(file, 1, 'the file has no instructions');
  if (first && first.kind !== 'FROM')
    throw new DockerfileError(
      file,
      first.line,
      `${first.kind} before the first FROM (only ARG may come first)`,
    );
  if (!first) throw new DockerfileError(file, instructions[0]?.line ?? 1, 'no FROM instruction');
  return { file, escape: escapeChar, instructions };
}

/** Offsets of a text by line and character, as the parser's ranges give them. */
class SourceText {
  readonly #lineStarts: number[] = [0];
  constructor(readonly text: string) {
    for (let i = 0; i < text.length; i++) if (text[i] === '\n') this.#lineStarts.push(i + 1);
  }
  slice(range: { start: Position; end: Position }): string {
    return this.text.slice(this.offset(range.start), this.offset(range.end));
  }
  offset(p: Position): number {
    return (this.#lineStarts[p.line] ?? this.text.length) + p.character;
  }
}
interface Position {
  line: number;
  character: number;
}

function toInstruction(
  node: AstInstruction,
  file: string,
  source: SourceText,
  escapeChar: string,
): Instruction {
  const keyword = node.getKeyword();
  const line = node.getRange().start.line + 1;
  const fail = (message: string): never => {
    throw new DockerfileError(file, line, message);
  };
  if (!KEYWORDS.has(keyword)) fail(`unknown instruction: ${node.getInstruction()}`);
  const text = source.slice(node.getRange()).trim();
  const args = node.getArgumentsContent() ?? '';
  const words = node.getArguments().map((a) => a.getValue());
  const at = { line, text };
  const flags = flagsOf(node, keyword, fail);
  const needArgs = () => {
    if (args.trim() === '') fail(`${keyword} requires at least one argument`);
  };

  switch (keyword) {
    case 'FROM': {
      const from = node as From;
      const rest = words.filter((_, i) => i > 0);
      if (words.length === 0) fail('FROM requires an image (or scratch)');
      if (rest.length !== 0 && !(rest.length === 2 && rest[0]?.toLowerCase() === 'as'))
        fail(`FROM takes an image and optionally "AS name", not ${JSON.stringify(args)}`);
      const stageName = from.getBuildStage() ?? undefined;
      if (stageName !== undefined && !/^[a-zA-Z][a-zA-Z0-9_.-]*$/.test(stageName))
        fail(
          `invalid stage name ${JSON.stringify(stageName)} (a letter, then letters, digits, "_", "." or "-")`,
        );
      return {
        ...at,
        kind: 'FROM',
        image: words[0] as string,
        ...(stageName !== undefined ? { stageName: stageName.toLowerCase() } : {}),
        ...(flags.platform !== undefined ? { platform: flags.platform } : {}),
      };
    }
    case 'RUN': {
      needArgs();
      const heredocs = heredocsOf(node, source);
      const rest = heredocs.length > 0 ? argsAfterFlags(node, source) : withoutFlags(args);
      return { ...at, kind: 'RUN', command: runCommand(rest, heredocs), heredocs, flags };
    }
    case 'COPY':
    case 'ADD': {
      const heredocs = heredocsOf(node, source);
      const paths =
        heredocs.length > 0 ? heredocSources(argsAfterFlags(node, source), heredocs) : pathWords(node);
      if (paths.length < 2) fail(`${keyword} requires at least two arguments: a source and a destination`);
      if (keyword === 'COPY' && (node as Copy).getFromFlag() && flags.from === '')
        fail('COPY --from needs a stage name, a stage index or an image');
      return {
        ...at,
        kind: keyword,
        sources: paths.slice(0, -1),
        dest: paths[paths.length - 1] as string,
        ...(flags.from !== undefined ? { from: flags.from } : {}),
        ...(flags.chown !== undefined ? { chown: flags.chown } : {}),
        ...(flags.chmod !== undefined ? { chmod: flags.chmod } : {}),
        link: flags.link !== undefined && flags.link !== 'false',
        heredocs,
      };
    }
    case 'ENV':
    case 'LABEL': {
      needArgs();
      const pairs = (node as PropertyInstruction).getProperties().map((p) => {
        const value = p.getUnescapedValue();
        // `KEY value` (no `=`) is the legacy form both ENV and LABEL still accept.
        if (value === null) fail(`${keyword} ${p.getName()}: missing "=value"`);
        return { key: p.getName(), value: value ?? '' };
      });
      if (pairs.length === 0) fail(`${keyword} requires at least one key=value`);
      for (const p of pairs) if (p.key === '') fail(`${keyword}: a key may not be empty`);
      return { ...at, kind: keyword, pairs };
    }
    case 'ARG': {
      needArgs();
      // Not the parser's properties: it reads `ARG A B=2` as ENV's legacy `NAME value` form, which ARG lacks.
      const argsOut = shellWords(args, escapeChar).map((word) => {
        const eq = word.indexOf('=');
        const name = eq < 0 ? word : word.slice(0, eq);
        if (!/^[a-zA-Z_][a-zA-Z0-9_]*$/.test(name)) fail(`ARG: invalid name ${JSON.stringify(name)}`);
        return eq < 0 ? { name } : { name, default: word.slice(eq + 1) };
      });
      return { ...at, kind: 'ARG', args: argsOut };
    }
    case 'WORKDIR':
    case 'USER':
    case 'STOPSIGNAL':
    case 'MAINTAINER':
      needArgs();
      // Docker reads these as one string (parseString): `USER a b` is the user "a b", refused later if unknown.
      return { ...at, kind: keyword, value: args.trim() };
    case 'EXPOSE':
      needArgs();
      return { ...at, kind: 'EXPOSE', values: words };
    case 'VOLUME': {
      needArgs();
      const json = jsonArray(args);
      const values = json ?? words;
      if (values.some((v) => v.trim() === '')) fail('VOLUME: a path may not be empty');
      return { ...at, kind: 'VOLUME', values };
    }
    case 'ENTRYPOINT':
    case 'CMD':
      return { ...at, kind: keyword, command: commandForm(args) };
    case 'SHELL': {
      const shell = jsonArray(args);
      if (!shell || shell.length === 0) fail('SHELL requires the arguments to be a JSON array of strings');
      return { ...at, kind: 'SHELL', shell: shell as string[] };
    }
    case 'HEALTHCHECK': {
      needArgs();
      const [sub, ...rest] = words;
      const upper = sub?.toUpperCase();
      if (upper === 'NONE') {
        if (rest.length > 0 || Object.keys(flags).length > 0)
          fail('HEALTHCHECK NONE takes no other arguments');
        return { ...at, kind: 'HEALTHCHECK', test: 'NONE' };
      }
      if (upper !== 'CMD') fail(`HEALTHCHECK: expected CMD or NONE, not ${JSON.stringify(sub)}`);
      const command = commandForm(args.trim().replace(/^\S+\s*/, ''));
      if (
        (command.form === 'exec' && command.args.length === 0) ||
        (command.form === 'shell' && !command.command)
      )
        fail('HEALTHCHECK CMD requires a command');
      return { ...at, kind: 'HEALTHCHECK', test: { command, options: healthcheckOptions(flags, fail) } };
    }
    case 'ONBUILD': {
      needArgs();
      const trigger = args.trim();
      const word = trigger.split(/\s+/)[0]?.toUpperCase() ?? '';
      if (word === 'ONBUILD' || word === 'FROM' || word === 'MAINTAINER')
        fail(`ONBUILD may not trigger ${word}`);
      return { ...at, kind: 'ONBUILD', trigger };
    }
  }
  return fail(`unknown instruction: ${node.getInstruction()}`);
}

function flagsOf(node: AstInstruction, keyword: string, fail: (m: string) => never): Record<string, string> {
  const out: Record<string, string> = {};
  const withFlags = node as AstInstruction & { getFlags?: () => Flag[] };
  if (typeof withFlags.getFlags !== 'function') return out;
  const allowed = FLAGS[keyword] ?? [];
  for (const flag of withFlags.getFlags()) {
    const name = flag.getName();
    if (!allowed.includes(name)) fail(`${keyword}: unknown flag --${name}`);
    if (name in out && name !== 'mount' && name !== 'exclude') fail(`${keyword}: --${name} given twice`);
    out[name] = flag.getValue() ?? '';
  }
  return out;
}

function healthcheckOptions(flags: Record<string, string>, fail: (m: string) => never): HealthcheckOptions {
  const options: HealthcheckOptions = {};
  for (const [flag, key] of [
    ['interval', 'interval'],
    ['timeout', 'timeout'],
    ['start-period', 'startPeriod'],
    ['start-interval', 'startInterval'],
  ] as const) {
    const value = flags[flag];
    if (value === undefined) continue;
    if (!/^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/.test(value))
      fail(`HEALTHCHECK --${flag}: invalid duration ${JSON.stringify(value)}`);
    options[key] = value;
  }
  if (flags.retries !== undefined) {
    if (!/^\d+$/.test(flags.retries))
      fail(`HEALTHCHECK --retries: not a number: ${JSON.stringify(flags.retries)}`);
    options.retries = flags.retries;
  }
  return options;
}

/** Docker's parseMaybeJSON: a JSON array of strings is the exec form, anything else a shell command line. */
function commandForm(args: string): CommandForm {
  const json = jsonArray(args);
  return json ? { form: 'exec', args: json } : { form: 'shell', command: args.trim() };
}

function jsonArray(args: string): string[] | undefined {
  const trimmed = args.trim();
  if (!trimmed.startsWith('[')) return undefined;
  try {
    const value: unknown = JSON.parse(trimmed);
    if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return value;
  } catch {
    // not JSON: the shell form, as Docker reads it
  }
  return undefined;
}

/** Arguments (continuations joined) without their leading `--flag[=value]` words. */
function withoutFlags(args: string): string {
  return args.trim().replace(/^(--\S+\s*)+/, '');
}

/** The instruction's source text after its flags (heredoc bodies included). */
function argsAfterFlags(node: AstInstruction, source: SourceText): string {
  const withFlags = node as AstInstruction & { getFlags?: () => Flag[] };
  const flags = typeof withFlags.getFlags === 'function' ? withFlags.getFlags() : [];
  const last = flags[flags.length - 1];
  const range = node.getArgumentsRange();
  if (!range) return '';
  const start = last ? last.getRange().end : range.start;
  return source.slice({ start, end: node.getRange().end }).trim();
}

/** COPY/ADD paths: a JSON array or whitespace-separated words. */
function pathWords(node: AstInstruction): string[] {
  const json = jsonArray(withoutFlags(node.getArgumentsContent() ?? ''));
  if (json) return json;
  return node.getArguments().map((a) => a.getValue()); // flags are not among a ModifiableInstruction's arguments
}

/** The words of a COPY/ADD heredoc's first line (`<<EOF /dest`), each heredoc named `<<NAME` (quotes gone). */
function heredocSources(rest: string, heredocs: HeredocBody[]): string[] {
  const firstLine = rest.split('\n')[0] ?? '';
  let next = 0;
  return firstLine
    .trim()
    .split(/\s+/)
    .filter(Boolean)
    .map((w) =>
      w.startsWith('<<') ? `<<${heredocs[next++]?.name ?? w.replace(/^<<-?["']?|["']$/g, '')}` : w,
    );
}

/** Splits on unquoted whitespace, keeping quotes and escapes in the words (expand.ts removes them). */
function shellWords(text: string, escapeChar: string): string[] {
  const words: string[] = [];
  let word = '';
  let quote: string | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (c === escapeChar && quote !== "'" && i + 1 < text.length) {
      word += c + text[++i];
    } else if (quote) {
      if (c === quote) quote = undefined;
      word += c;
    } else if (c === '"' || c === "'") {
      quote = c;
      word += c;
    } else if (/\s/.test(c)) {
      if (word !== '') words.push(word);
      word = '';
    } else word += c;
  }
  if (word !== '') words.push(word);
  return words;
}

function heredocsOf(node: AstInstruction, source: SourceText): HeredocBody[] {
  const withHeredocs = node as AstInstruction & { getHeredocs?: () => Heredoc[] };
  if (typeof withHeredocs.getHeredocs !== 'function') return [];
  return withHeredocs.getHeredocs().map((h) => {
    const start = source.slice(h.getStartRange());
    const range = h.getContentRange();
    let content = range ? `${source.slice(range)}\n` : '';
    const stripTabs = /^<<-/.test(start);
    if (stripTabs) content = content.replace(/^\t+/gm, '');
    return { name: h.getName(), content, expand: !/^<<-?["']/.test(start), stripTabs };
  });
}

/**
 * RUN's command. `RUN <<EOF` alone runs the body as the script; a command line that uses heredocs is handed
 * to the shell whole, bodies included, since the shell reads heredocs itself (BuildKit does the same).
 */
function runCommand(rest: string, heredocs: HeredocBody[]): CommandForm {
  if (heredocs.length === 0) return commandForm(rest);
  const firstLine = (rest.split('\n')[0] ?? '').trim();
  const only = heredocs[0];
  if (heredocs.length === 1 && only && /^<<-?["']?[^\s"']+["']?$/.test(firstLine))
    return { form: 'shell', command: only.content };
  return { form: 'shell', command: rest };
}
