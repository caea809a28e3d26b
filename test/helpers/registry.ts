// A real registry for one test: Debian's docker-registry (the distribution registry) with a config this helper
// writes, listening on 127.0.0.1:5000 inside a network namespace the helper creates (never the packaged config,
// which listens on every interface), storage in a temp dir. Clients reach it from inside that namespace:
// skopeo through nsenter, tsnet's client as a child process under nsenter (`runInRegistryNetns`).
//
// Also test images made from busybox-static: gzip layers written with tar-stream, an OCI config and manifest,
// laid out as an OCI image layout directory that `skopeo copy oci:DIR:TAG docker://...` pushes.
import { type ChildProcess, execFile, execFileSync, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { pack } from 'tar-stream';
import { createNamedNetns, deleteNamedNetns } from '../../pkg/netns/index.ts';

const run = promisify(execFile);

export const REGISTRY_PORT = 5000;

export interface TestRegistry {
  readonly netnsPath: string;
  /** `127.0.0.1:5000`, reachable only inside `netnsPath`. */
  readonly host: string;
  readonly dir: string;
  /** Runs skopeo inside the registry's namespace (plain HTTP: --tls-verify=false); returns stdout. */
  skopeo(...args: string[]): Promise<string>;
  /** Kills the registry and removes its namespace and storage. Safe to call twice. */
  stop(): Promise<void>;
}

export interface RegistryOptions {
  /** The registry's `auth: token` configuration: tokens from `realm`, signed by the certificate in `certFile`. */
  readonly tokenAuth?: { realm: string; service: string; issuer: string; certFile: string };
}

export async function startRegistry(options: RegistryOptions = {}): Promise<TestRegistry> {
  const suffix = randomBytes(4).toString('hex');
  const netnsName = `tsnt-reg-${suffix}`;
  const dir = mkdtempSync(join(tmpdir(), `tsnt-reg-${suffix}-`));
  const host = `127.0.0.1:${REGISTRY_PORT}`;
  let netnsPath: string | undefined;
  let child: ChildProcess | undefined;
  let stopped = false;

  // If the test process exits without teardown (an ava timeout), take the registry and its namespace along.
  function onExit(): void {
    child?.kill('SIGKILL');
    if (netnsPath) deleteNamedNetns(netnsName);
    rmSync(dir, { recursive: true, force: true });
  }

  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    process.removeListener('exit', onExit);
    try {
      const proc = child;
      if (proc && proc.exitCode === null && proc.signalCode === null) {
        const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
        proc.kill('SIGKILL');
        await exited;
      }
    } finally {
      if (netnsPath) deleteNamedNetns(netnsName);
      rmSync(dir, { recursive: true, force: true });
    }
  };

  process.once('exit', onExit);
  try {
    netnsPath = createNamedNetns(netnsName);
    await run('nsenter', [`--net=${netnsPath}`, 'ip', 'link', 'set', 'lo', 'up']);
    const config = join(dir, 'config.yml');
    writeFileSync(
      config,
      [
        'version: 0.1',
        'log:',
        '  level: warn',
        'storage:',
        '  filesystem:',
        `    rootdirectory: ${join(dir, 'storage')}`,
        '  delete:',
        '    enabled: true',
        'http:',
        `  addr: ${host}`,
        ...(options.tokenAuth
          ? [
              'auth:',
              '  token:',
              `    realm: ${options.tokenAuth.realm}`,
              `    service: ${options.tokenAuth.service}`,
              `    issuer: ${options.tokenAuth.issuer}`,
              `    rootcertbundle: ${options.tokenAuth.certFile}`,
            ]
          : []),
        '',
      ].join('\n'),
    );
    const log = openSync(join(dir, 'registry.log'), 'a');
    try {
      child = spawn('nsenter', [`--net=${netnsPath}`, '/usr/bin/docker-registry', 'serve', config], {
        stdio: ['ignore', log, log],
      });
    } finally {
      closeSync(log);
    }
    const proc = child;
    const exited = new Promise<never>((_, reject) =>
      proc.once('exit', (code, signal) =>
        reject(new Error(`docker-registry exited early (${code ?? signal}): ${readLog(dir)}`)),
      ),
    );
    exited.catch(() => undefined);
    // Generous: on a loaded machine the registry can take seconds to listen.
    const giveUpAt = Date.now() + 60_000;
    for (;;) {
      try {
        await Promise.race([
          // Any HTTP answer means it is serving (401 with token auth).
          run('nsenter', [`--net=${netnsPath}`, 'curl', '-s', '-o', '/dev/null', `http://${host}/v2/`]),
          exited,
        ]);
        break;
      } catch (err) {
        if (proc.exitCode !== null || proc.signalCode !== null || Date.now() > giveUpAt) throw err;
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  } catch (err) {
    await stop();
    throw err;
  }
  const nsPath = netnsPath;
  return {
    netnsPath: nsPath,
    host,
    dir,
    async skopeo(...args: string[]) {
      const { stdout } = await run('nsenter', [`--net=${nsPath}`, 'skopeo', ...args], {
        maxBuffer: 64 * 1024 * 1024,
      });
      return stdout;
    },
    stop,
  };
}

function readLog(dir: string): string {
  try {
    return readFileSync(join(dir, 'registry.log'), 'utf8').slice(-2000);
  } catch {
    return '(no log)';
  }
}

export interface ChildRun {
  readonly child: ChildProcess;
  /** Every JSON line the child printed, in order. */
  readonly lines: unknown[];
  /** Resolves with all lines once the child exits. */
  readonly done: Promise<unknown[]>;
  /** Resolves with the first line `match` accepts. */
  waitFor(match: (line: unknown) => boolean): Promise<unknown>;
  /** What the child wrote to stderr (and non-JSON stdout lines) so far: for failure messages. */
  output(): string;
}

/** Runs a TypeScript program in the namespace (`nsenter --net`), one JSON argument in, JSON lines out. */
export function runInRegistryNetns(netnsPath: string, script: string, input: unknown): ChildRun {
  const child = spawn(
    'nsenter',
    [`--net=${netnsPath}`, process.execPath, '--import=tsx', script, JSON.stringify(input)],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const lines: unknown[] = [];
  const waiters: { match: (line: unknown) => boolean; resolve: (line: unknown) => void }[] = [];
  let buffered = '';
  let stderr = '';
  let exit = '';
  child.stdout!.setEncoding('utf8').on('data', (text: string) => {
    buffered += text;
    for (let nl = buffered.indexOf('\n'); nl >= 0; nl = buffered.indexOf('\n')) {
      const text = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      let line: unknown;
      try {
        line = JSON.parse(text) as unknown;
      } catch {
        // not one of the script's result lines (a library writing to stdout): keep it for the error
        stderr += `[stdout] ${text}\n`;
        continue;
      }
      lines.push(line);
      for (const w of waiters.filter((w) => w.match(line))) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(line);
      }
    }
  });
  child.stderr!.setEncoding('utf8').on('data', (text: string) => {
    stderr += text;
  });
  const done = new Promise<unknown[]>((resolve, reject) => {
    child.once('error', reject);
    // 'close', not 'exit': the last lines of stdout can still be on their way when the process has exited
    child.once('close', (code, signal) => {
      exit = `${code ?? signal}`;
      if (code === 0 || signal === 'SIGKILL') resolve(lines);
      else reject(new Error(`${script} exited with ${exit}: ${stderr.slice(-3000)}`));
    });
  });
  return {
    child,
    lines,
    done,
    output: () => stderr,
    waitFor(match) {
      const seen = lines.find(match);
      if (seen !== undefined) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        waiters.push({ match, resolve });
        done.then(
          () =>
            reject(
              new Error(
                `${script} exited (${exit}) before the awaited line; ${lines.length} lines seen; stderr: ${stderr.slice(-3000) || '(empty)'}`,
              ),
            ),
          reject,
        );
      });
    },
  };
}

export interface TestImage {
  /** The OCI layout directory; the image is under `tag` in its index.json. */
  readonly layout: string;
  readonly tag: string;
  /** The top-level manifest (an image index when `platforms` has several). */
  readonly digest: string;
  readonly mediaType: string;
  readonly manifests: { digest: string; config: string; layers: string[]; platform: string }[];
}

interface LayerFile {
  readonly name: string;
  readonly data?: Buffer;
  readonly linkname?: string;
  readonly type?: 'file' | 'directory' | 'symlink';
  readonly mode?: number;
}

function sha256(data: Buffer): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

async function tarOf(files: readonly LayerFile[]): Promise<Buffer> {
  const p = pack();
  const chunks: Buffer[] = [];
  p.on('data', (c: unknown) => chunks.push(c as Buffer));
  const ended = new Promise<void>((resolve, reject) => {
    p.on('end', () => resolve());
    p.on('error', reject);
  });
  const mtime = new Date('2024-01-01T00:00:00Z');
  for (const f of files) {
    const type = f.type ?? (f.linkname ? 'symlink' : 'file');
    const header = {
      name: f.name,
      type,
      mode: f.mode ?? (type === 'directory' ? 0o755 : 0o644),
      mtime,
      uid: 0,
      gid: 0,
      ...(f.linkname !== undefined && { linkname: f.linkname }),
    };
    await new Promise<void>((resolve, reject) => {
      const done = (err?: Error | null) => (err ? reject(err) : resolve());
      p.entry(header, type === 'file' ? (f.data ?? Buffer.alloc(0)) : Buffer.alloc(0), done);
    });
  }
  p.finalize();
  await ended;
  return Buffer.concat(chunks);
}

/** Layers of a small busybox image: the binary, then links, a file, a whiteout and an opaque dir. */
export async function busyboxLayers(extra = ''): Promise<Buffer[]> {
  const busybox = readFileSync('/usr/bin/busybox');
  const first = await tarOf([
    { name: 'bin/', type: 'directory' },
    { name: 'bin/busybox', data: busybox, mode: 0o755 },
    { name: 'etc/', type: 'directory' },
    { name: 'etc/old/', type: 'directory' },
    { name: 'etc/old/gone', data: Buffer.from('removed by the next layer\n') },
    { name: 'etc/removed', data: Buffer.from('whited out\n') },
  ]);
  const second = await tarOf([
    { name: 'bin/sh', linkname: 'busybox' },
    { name: 'bin/ls', linkname: 'busybox' },
    { name: 'etc/motd', data: Buffer.from(`hello from a tsnet test image${extra}\n`) },
    { name: 'etc/.wh.removed', data: Buffer.alloc(0) },
    { name: 'etc/old/.wh..wh..opq', data: Buffer.alloc(0) },
  ]);
  return [first, second];
}

const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';

/**
 * Writes an OCI image layout with busybox images for `platforms` (`os/arch[/variant]`): one image manifest
 * under `tag` for one platform, an image index over all of them for several.
 */
export async function writeBusyboxLayout(
  dir: string,
  tag: string,
  platforms: readonly string[],
): Promise<TestImage> {
  mkdirSync(join(dir, 'blobs', 'sha256'), { recursive: true });
  const putBlob = (data: Buffer): { digest: string; size: number } => {
    const digest = sha256(data);
    writeFileSync(join(dir, 'blobs', 'sha256', digest.slice(7)), data);
    return { digest, size: data.length };
  };
  const manifests: TestImage['manifests'] = [];
  const entries: unknown[] = [];
  for (const platform of platforms) {
    const [os, architecture, variant] = platform.split('/');
    const tars = await busyboxLayers(` (${platform})`);
    const layers = tars.map((tar) => ({
      mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip',
      ...putBlob(gzipSync(tar)),
    }));
    const config = putBlob(
      Buffer.from(
        JSON.stringify({
          created: '2024-01-01T00:00:00Z',
          architecture,
          os,
          ...(variant !== undefined && { variant }),
          config: { Cmd: ['/bin/sh'], Env: ['PATH=/bin'] },
          rootfs: { type: 'layers', diff_ids: tars.map(sha256) },
        }),
      ),
    );
    const manifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: OCI_MANIFEST,
        config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
        layers,
      }),
    );
    const m = putBlob(manifest);
    manifests.push({
      digest: m.digest,
      config: config.digest,
      layers: layers.map((l) => l.digest),
      platform,
    });
    entries.push({
      mediaType: OCI_MANIFEST,
      ...m,
      platform: { os, architecture, ...(variant !== undefined && { variant }) },
    });
  }
  let top: { digest: string; size: number; mediaType: string };
  if (platforms.length === 1) {
    top = { ...(entries[0] as { digest: string; size: number }), mediaType: OCI_MANIFEST };
  } else {
    const index = putBlob(
      Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: entries })),
    );
    top = { ...index, mediaType: OCI_INDEX };
  }
  writeFileSync(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  writeFileSync(
    join(dir, 'index.json'),
    JSON.stringify({
      schemaVersion: 2,
      manifests: [
        {
          mediaType: top.mediaType,
          digest: top.digest,
          size: top.size,
          annotations: { 'org.opencontainers.image.ref.name': tag },
        },
      ],
    }),
  );
  return { layout: dir, tag, digest: top.digest, mediaType: top.mediaType, manifests };
}

/**
 * Writes an OCI image layout holding one linux/amd64 image of `tars` (uncompressed layer tars, stored as gzip
 * at `level`) under `tag`; returns the layer blobs' digests and sizes, and each layer's DiffID.
 */
export function writeLayoutOf(
  dir: string,
  tag: string,
  tars: readonly Buffer[],
  level = 1,
): { layers: { digest: string; size: number; diffId: string }[] } {
  mkdirSync(join(dir, 'blobs', 'sha256'), { recursive: true });
  const put = (data: Buffer) => {
    const digest = sha256(data);
    writeFileSync(join(dir, 'blobs', 'sha256', digest.slice(7)), data);
    return { digest, size: data.length };
  };
  const layers = tars.map((t) => ({ ...put(gzipSync(t, { level })), diffId: sha256(t) }));
  const config = put(
    Buffer.from(
      JSON.stringify({
        architecture: 'amd64',
        os: 'linux',
        config: { Cmd: ['/bin/sh'] },
        rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) },
      }),
    ),
  );
  const manifest = put(
    Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: OCI_MANIFEST,
        config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
        layers: layers.map(({ digest, size }) => ({
          mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip',
          digest,
          size,
        })),
      }),
    ),
  );
  writeFileSync(join(dir, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
  writeFileSync(
    join(dir, 'index.json'),
    JSON.stringify({
      schemaVersion: 2,
      manifests: [
        { mediaType: OCI_MANIFEST, ...manifest, annotations: { 'org.opencontainers.image.ref.name': tag } },
      ],
    }),
  );
  return { layers };
}

/** A layer tar holding one file of `bytes` random bytes (incompressible). */
export function randomLayerTar(name: string, bytes: number): Promise<Buffer> {
  return tarOf([{ name, data: randomBytes(bytes) }]);
}

/** A throwaway key and self-signed certificate (openssl) for a test token server to sign registry tokens. */
export function makeTokenSigner(dir: string, commonName: string): { keyFile: string; certFile: string } {
  const keyFile = join(dir, 'token.key');
  const certFile = join(dir, 'token.crt');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      keyFile,
      '-out',
      certFile,
      '-days',
      '1',
      '-subj',
      `/CN=${commonName}`,
    ],
    { stdio: 'ignore' },
  );
  return { keyFile, certFile };
}
