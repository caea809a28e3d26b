// Runs nft inside a network namespace: JSON batches (`nft -j -f FILE`, applied by the kernel as one
// transaction) and JSON listings. The child is forked while the thread sits in the target namespace, so nft
// (and the netlink socket it opens) lives there; no nsenter exec on the way.
// The batch goes through a private temporary file, not stdin: Node's stdio pipes are socketpairs, which nft
// cannot open as /dev/stdin.
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { withNetns } from '../netns/index.ts';

export const NFT_BINARY = '/usr/sbin/nft';

/** One libnftables-json command, e.g. `{ add: { table: { family: 'inet', name: 'tsnet' } } }`. */
export type NftCommand = Record<string, Record<string, unknown>>;

/** One object of a `nft -j list` answer (`{ table: {...} }`, `{ set: {...} }`, `{ rule: {...} }`, ...). */
export type NftObject = Record<string, Record<string, unknown>>;

/** nft failed: carries what we were doing, in which namespace, nft's exit code and its stderr. */
export class NftError extends Error {
  readonly purpose: string;
  readonly nsPath: string;
  readonly exitCode: number | null;
  readonly stderr: string;
  constructor(purpose: string, nsPath: string, exitCode: number | null, stderr: string) {
    const detail = stderr.trim() || `exit code ${exitCode}`;
    super(`nft: ${purpose} (netns ${nsPath}): ${detail}`);
    this.name = 'NftError';
    this.purpose = purpose;
    this.nsPath = nsPath;
    this.exitCode = exitCode;
    this.stderr = stderr;
  }

  /** The kernel reported a missing object (table, set, element): ENOENT. */
  get notFound(): boolean {
    return /No such file or directory/.test(this.stderr);
  }

  /** The kernel refused to overwrite an existing element with different data: EEXIST. */
  get exists(): boolean {
    return /File exists/.test(this.stderr);
  }
}

interface NftRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

function runNft(nsPath: string, args: readonly string[], purpose: string): Promise<NftRun> {
  return new Promise((resolve, reject) => {
    let child: ChildProcess;
    try {
      // Loaded on first use: child_process (and the net module under it) would slow every plugin start.
      const { spawn } = process.getBuiltinModule('node:child_process');
      child = withNetns(nsPath, () => spawn(NFT_BINARY, args, { stdio: ['ignore', 'pipe', 'pipe'] }));
    } catch (err) {
      reject(new NftError(purpose, nsPath, null, err instanceof Error ? err.message : String(err)));
      return;
    }
    const out: Buffer[] = [];
    const errOut: Buffer[] = [];
    child.stdout?.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr?.on('data', (chunk: Buffer) => errOut.push(chunk));
    child.on('error', (err) => reject(new NftError(purpose, nsPath, null, err.message)));
    child.on('close', (code) =>
      resolve({ code, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(errOut).toString() }),
    );
  });
}

/** Applies `commands` as one atomic nft transaction in the namespace at `nsPath`. */
export async function applyNftBatch(
  nsPath: string,
  commands: readonly NftCommand[],
  purpose: string,
): Promise<void> {
  if (commands.length === 0) return;
  const dir = await mkdtemp(join(tmpdir(), 'tsnet-nft-'));
  try {
    const file = join(dir, 'batch.json');
    await writeFile(file, JSON.stringify({ nftables: commands }), { mode: 0o600 });
    const run = await runNft(nsPath, ['-j', '-f', file], purpose);
    if (run.code !== 0) throw new NftError(purpose, nsPath, run.code, run.stderr);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function parseListing(stdout: string, purpose: string, nsPath: string): NftObject[] {
  if (stdout.trim() === '') return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(stdout);
  } catch (err) {
    throw new NftError(purpose, nsPath, 0, `unparsable JSON from nft: ${(err as Error).message}`);
  }
  const list = (parsed as { nftables?: unknown }).nftables;
  if (!Array.isArray(list)) throw new NftError(purpose, nsPath, 0, 'nft JSON without an "nftables" array');
  return list.filter((o): o is NftObject => typeof o === 'object' && o !== null && !('metainfo' in o));
}

/** Lists one table (`nft -j list table FAMILY NAME`); null when the table does not exist. */
export async function listNftTable(
  nsPath: string,
  family: string,
  name: string,
): Promise<NftObject[] | null> {
  const purpose = `list table ${family} ${name}`;
  const run = await runNft(nsPath, ['-j', 'list', 'table', family, name], purpose);
  if (run.code !== 0) {
    const err = new NftError(purpose, nsPath, run.code, run.stderr);
    if (err.notFound) return null;
    throw err;
  }
  return parseListing(run.stdout, purpose, nsPath);
}

/** The whole ruleset of a namespace (`nft -j list ruleset`), for inspection and tests. */
export async function listNftRuleset(nsPath: string): Promise<NftObject[]> {
  const purpose = 'list ruleset';
  const run = await runNft(nsPath, ['-j', 'list', 'ruleset'], purpose);
  if (run.code !== 0) throw new NftError(purpose, nsPath, run.code, run.stderr);
  return parseListing(run.stdout, purpose, nsPath);
}
