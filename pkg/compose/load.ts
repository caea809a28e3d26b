// Loading a compose project as `docker compose` does: the files (`-f`, COMPOSE_FILE, else compose.yaml,
// compose.yml, docker-compose.yaml, docker-compose.yml in the current directory or a parent), `.env` in the
// project directory for interpolation (the process environment wins), the files merged in order, the
// project name (-p, COMPOSE_PROJECT_NAME, `name:`, else the directory's name normalized), then validation.
import { readFileSync, statSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { parseEnvFile } from './env-file.ts';
import type { Lookup } from './interpolate.ts';
import { mergeFiles } from './merge.ts';
import { type ComposeProject, normalizeProject } from './model.ts';
import { ComposeError, type LNode, parseComposeText, posText } from './tree.ts';

export const DEFAULT_FILE_NAMES = [
  'compose.yaml',
  'compose.yml',
  'docker-compose.yaml',
  'docker-compose.yml',
] as const;

export interface LoadOptions {
  /** `-f` (relative to cwd), in order; empty: COMPOSE_FILE or the default names */
  readonly files?: readonly string[];
  /** `-p` */
  readonly projectName?: string;
  /** `--project-directory`; default: the first file's directory */
  readonly projectDirectory?: string;
  readonly cwd?: string;
  /** default: process.env */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

export interface LoadedProject {
  readonly project: ComposeProject;
  readonly warnings: readonly string[];
}

export function loadProject(opts: LoadOptions = {}): LoadedProject {
  const cwd = resolve(opts.cwd ?? process.cwd());
  const env = opts.env ?? process.env;
  const files = composeFiles(opts.files, env, cwd);
  const workingDir = resolve(cwd, opts.projectDirectory ?? dirname(files[0] as string));
  const dotenv = readDotEnv(workingDir, (name) => env[name]);
  // the shell's environment takes precedence over .env, as in Compose
  const lookup: Lookup = (name) => env[name] ?? dotenv.get(name);
  const warnings: string[] = [];
  let root: LNode | undefined;
  for (const file of files) {
    const parsed = parseComposeText(readText(file), relativeName(file, cwd), lookup);
    warnings.push(...parsed.warnings);
    const version = parsed.root.kind === 'map' ? parsed.root.keyPos.get('version') : undefined;
    if (version)
      warnings.push(`${posText(version)}: the attribute "version" is obsolete, it will be ignored`);
    root = root === undefined ? parsed.root : mergeFiles(root, parsed.root);
  }
  const projectName = resolveProjectName(
    opts.projectName,
    lookup('COMPOSE_PROJECT_NAME'),
    root as LNode,
    workingDir,
  );
  const project = normalizeProject(root as LNode, {
    projectName,
    workingDir,
    configFiles: files,
    lookup,
    readEnvFile: (path) => parseEnvFile(readText(path), path, lookup),
    ...(env.HOME !== undefined && { home: env.HOME }),
  });
  return { project, warnings };
}

/** The absolute paths of the compose files to read. */
export function composeFiles(
  explicit: readonly string[] | undefined,
  env: Readonly<Record<string, string | undefined>>,
  cwd: string,
): string[] {
  if (explicit && explicit.length > 0) return explicit.map((f) => resolve(cwd, f));
  const fromEnv = env.COMPOSE_FILE;
  if (fromEnv)
    return fromEnv
      .split(env.COMPOSE_PATH_SEPARATOR ?? ':')
      .filter((f) => f !== '')
      .map((f) => resolve(cwd, f));
  for (let dir = cwd; ; dir = dirname(dir)) {
    const found = DEFAULT_FILE_NAMES.map((n) => resolve(dir, n)).find(isFile);
    if (found) return [found];
    if (dirname(dir) === dir) break;
  }
  throw new ComposeError(
    `no configuration file provided: not found (looked for ${DEFAULT_FILE_NAMES.join(', ')} in ${cwd} and its parents)`,
  );
}

/** Compose's rule for names: lower case letters, digits, dashes and underscores, starting with a letter or digit. */
export function normalizeProjectName(name: string): string {
  return name
    .toLowerCase()
    .replace(/[^-_a-z0-9]+/g, '')
    .replace(/^[-_]+/, '');
}

const PROJECT_NAME = /^[a-z0-9][a-z0-9_-]*$/;

function resolveProjectName(
  flag: string | undefined,
  fromEnv: string | undefined,
  root: LNode,
  workingDir: string,
): string {
  const checked = (name: string, source: string): string => {
    if (!PROJECT_NAME.test(name)) {
      throw new ComposeError(
        `invalid project name ${JSON.stringify(name)} (${source}): it must contain only lowercase letters, digits, dashes and underscores, and start with a letter or digit`,
      );
    }
    return name;
  };
  if (flag) return checked(flag, '-p');
  if (fromEnv) return checked(fromEnv, 'COMPOSE_PROJECT_NAME');
  const nameNode = root.kind === 'map' ? root.entries.get('name') : undefined;
  if (nameNode?.kind === 'scalar' && nameNode.value !== null && nameNode.value !== '') {
    return checked(
      String(nameNode.value),
      `name: at ${nameNode.pos.file}:${nameNode.pos.line}:${nameNode.pos.col}`,
    );
  }
  const fromDir = normalizeProjectName(basename(workingDir));
  if (fromDir === '')
    throw new ComposeError(`cannot derive a project name from the directory ${workingDir}: use -p`);
  return fromDir;
}

function readDotEnv(dir: string, lookup: Lookup): Map<string, string> {
  const path = resolve(dir, '.env');
  if (!isFile(path)) return new Map();
  try {
    return parseEnvFile(readText(path), path, lookup);
  } catch (err) {
    throw new ComposeError((err as Error).message, { cause: err });
  }
}

function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ComposeError(`${path}: ${code === 'ENOENT' ? 'no such file' : (code ?? String(err))}`, {
      cause: err,
    });
  }
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** Errors name files as the user wrote them when under cwd, absolute otherwise. */
function relativeName(file: string, cwd: string): string {
  return file.startsWith(`${cwd}/`) ? file.slice(cwd.length + 1) : file;
}
