// The image the demo and the soak run: a root filesystem tar made here from Debian's busybox-static, with a
// link per applet in /bin and the directories a shell expects, for `tsnetctl import`.
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { pack } from 'tar-stream';

const BUSYBOX = '/usr/bin/busybox';
const execFileAsync = promisify(execFile);

/** A root filesystem tar: busybox-static with a link per applet in /bin, and the directories a shell expects. */
export async function writeBusyboxRootfs(file: string): Promise<void> {
  const applets = (await execFileAsync(BUSYBOX, ['--list'], { encoding: 'utf8' })).stdout
    .split('\n')
    .filter((a) => /^[a-z0-9_.[-]+$/.test(a) && a !== 'busybox');
  const p = pack();
  const chunks: Buffer[] = [];
  p.on('data', (c: unknown) => chunks.push(c as Buffer));
  const ended = new Promise<void>((resolve, reject) => {
    p.on('end', resolve);
    p.on('error', reject);
  });
  const entry = (header: Parameters<typeof p.entry>[0], data?: Buffer): Promise<void> =>
    new Promise((resolve, reject) =>
      p.entry(header, data ?? Buffer.alloc(0), (err) => (err ? reject(err) : resolve())),
    );
  const mtime = new Date('2024-01-01T00:00:00Z');
  for (const dir of ['bin', 'etc', 'tmp', 'www', 'proc', 'sys', 'dev'])
    await entry({ name: `${dir}/`, type: 'directory', mode: dir === 'tmp' ? 0o1777 : 0o755, mtime });
  await entry({ name: 'bin/busybox', mode: 0o755, mtime }, readFileSync(BUSYBOX));
  for (const applet of applets)
    await entry({ name: `bin/${applet}`, type: 'symlink', linkname: 'busybox', mtime });
  p.finalize();
  await ended;
  writeFileSync(file, Buffer.concat(chunks));
}
