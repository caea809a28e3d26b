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

/** The entry names of each layer of `image`, from a `tsnetctl save` archive. */
export async function layerEntries(e: Engine, image: string): Promise<string[][]> {
  const archive = join(e.dir, `save-${Date.now()}.tar`);
  const saved = await e.ctl('save', '-o', archive, image);
  if (saved.code !== 0) throw new Error(`save: ${saved.stderr}`);
  const tar = (...args: string[]) => execFileSync('tar', args, { maxBuffer: 64 << 20 }).toString();
  const [manifest] = JSON.parse(tar('-xOf', archive, 'manifest.json')) as { Layers: string[] }[];
  const out: string[][] = [];
  for (const name of manifest!.Layers) {
    const file = join(e.dir, 'layer.tar');
    await writeFile(file, execFileSync('tar', ['-xOf', archive, name], { maxBuffer: 64 << 20 }));
    out.push(
      tar('-tf', file)
        .split('\n')
        .filter(Boolean)
        .map((n) => n.replace(/^\.\//, '').replace(/\/$/, '')),
    );
  }
  await rm(archive, { force: true });
  return out;
}
