// What the build tests and the build bench share: the multi-step Dockerfile and its context, and the entries
// of an image's layers as `tsnetctl save` writes them.
import { execFileSync } from 'node:child_process';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type Engine, TEST_IMAGE } from '../helpers/engine.ts';

export const APP_DOCKERFILE = `FROM ${TEST_IMAGE}
ENV GREETING=hello
WORKDIR /app
COPY msg.txt ./
RUN echo "$GREETING from a shell RUN in $(pwd)" | tee run.txt && cat msg.txt >> run.txt
RUN ["/bin/sh", "-c", "echo exec form > /app/exec.txt && chmod 0600 /app/exec.txt"]
CMD ["sh", "-c", "cat /app/run.txt /app/exec.txt"]
`;

/** A context dir with APP_DOCKERFILE and the file it copies. */
export async function appContext(dir: string): Promise<string> {
  const ctx = join(dir, 'ctx');
  await mkdir(ctx, { recursive: true });
  await writeFile(join(ctx, 'Dockerfile'), APP_DOCKERFILE);
  await writeFile(join(ctx, 'msg.txt'), 'message v1\n');
  return ctx;
}

/** The entries (`perms name`, as tar -tv lists them) of each layer of a docker-archive. */
export async function archiveLayers(archive: string, scratch: string): Promise<string[][]> {
  const tar = (...args: string[]) => execFileSync('tar', args, { maxBuffer: 64 << 20 }).toString();
  const [manifest] = JSON.parse(tar('-xOf', archive, 'manifest.json')) as { Layers: string[] }[];
  const out: string[][] = [];
  for (const name of manifest!.Layers) {
    const file = join(scratch, 'layer.tar');
    await writeFile(file, execFileSync('tar', ['-xOf', archive, name], { maxBuffer: 64 << 20 }));
    out.push(
      tar('--numeric-owner', '-tvf', file)
        .split('\n')
        .filter(Boolean)
        .map((line) => {
          const f = line.split(/\s+/);
          const entry = f.slice(5).join(' ').replace(/^\.\//, '').replace(/\/$/, '');
          return `${f[0]} ${entry}`;
        }),
    );
    await rm(file, { force: true });
  }
  return out;
}

/** The entry names of each layer of `image`, from a `tsnetctl save` archive. */
export async function layerEntries(e: Engine, image: string): Promise<string[][]> {
  const archive = join(e.dir, `save-${Date.now()}.tar`);
  const saved = await e.ctl('save', '-o', archive, image);
  if (saved.code !== 0) throw new Error(`save: ${saved.stderr}`);
  try {
    return (await archiveLayers(archive, e.dir)).map((layer) => layer.map((l) => l.replace(/^\S+ /, '')));
  } finally {
    await rm(archive, { force: true });
  }
}
