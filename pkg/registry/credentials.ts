// Registry credentials kept like Docker's config.json: `{"auths": {"<registry>": {"auth": base64(user:pass)}}}`,
// Docker Hub under its legacy key `https://index.docker.io/v1/`. The file is replaced durably with mode 0600:
// it holds passwords. Other top-level keys (and other tools' entries) are preserved.
import { mkdir, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { writeFileAtomic } from '../fsutil/atomic.ts';
import type { BasicCredentials } from './auth.ts';

const DOCKER_HUB_KEY = 'https://index.docker.io/v1/';

export class CredentialsError extends Error {
  override readonly name = 'CredentialsError';
}

interface ConfigFile {
  auths?: Record<string, { auth?: string; username?: string; password?: string }>;
  [key: string]: unknown;
}

function keyFor(domain: string): string {
  return domain === 'docker.io' ? DOCKER_HUB_KEY : domain;
}

// Docker also accepts keys written as URLs (`https://host/v1/`): compare by host.
function hostOf(key: string): string {
  return key === DOCKER_HUB_KEY ? 'docker.io' : key.replace(/^https?:\/\//, '').replace(/\/.*$/, '');
}

async function readConfig(path: string): Promise<ConfigFile> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new CredentialsError(`cannot read ${path}: ${(err as Error).message}`);
  }
  try {
    const parsed = JSON.parse(text) as unknown;
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
      throw new Error('not an object');
    return parsed as ConfigFile;
  } catch (err) {
    throw new CredentialsError(`${path} is not a credentials file: ${(err as Error).message}`);
  }
}

/** The credentials stored for `domain`, if any. */
export async function findCredentials(path: string, domain: string): Promise<BasicCredentials | undefined> {
  const auths = (await readConfig(path)).auths ?? {};
  const entry = Object.entries(auths).find(([key]) => hostOf(key) === domain)?.[1];
  if (!entry) return undefined;
  if (entry.auth) {
    const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0)
      throw new CredentialsError(`the stored credentials for ${domain} in ${path} are malformed`);
    return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
  }
  if (entry.username !== undefined && entry.password !== undefined) {
    return { username: entry.username, password: entry.password };
  }
  return undefined;
}

/** Stores credentials for `domain` (`login`). */
export async function storeCredentials(
  path: string,
  domain: string,
  credentials: BasicCredentials,
): Promise<void> {
  if (credentials.username.includes(':')) throw new CredentialsError('a username cannot contain ":"');
  const config = await readConfig(path);
  const auths = Object.fromEntries(
    Object.entries(config.auths ?? {}).filter(([key]) => hostOf(key) !== domain),
  );
  auths[keyFor(domain)] = {
    auth: Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64'),
  };
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  await writeFileAtomic(path, `${JSON.stringify({ ...config, auths }, null, 2)}\n`, { mode: 0o600 });
}

/** Forgets the credentials for `domain` (`logout`); true when there were some. */
export async function removeCredentials(path: string, domain: string): Promise<boolean> {
  const config = await readConfig(path);
  const before = Object.entries(config.auths ?? {});
  const kept = before.filter(([key]) => hostOf(key) !== domain);
  if (kept.length === before.length) return false;
  await writeFileAtomic(
    path,
    `${JSON.stringify({ ...config, auths: Object.fromEntries(kept) }, null, 2)}\n`,
    { mode: 0o600 },
  );
  return true;
}
