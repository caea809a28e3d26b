// bench:build — a five-step Dockerfile (FROM, ENV, COPY, RUN, CMD) built cold (--no-cache) and fully cached, by
// tsnet (tsnetctl build against a real agent: the shipped dist/bin/tsnetctl when `npm run build` made it, and
// tsnetctl run from its sources through tsx, whose start alone takes most of a cached build; and the agent's
// Build call without any CLI), buildah (chroot isolation, vfs) and Docker when a daemon answers, in one run;
// medians of --runs builds each. Everything runs in a network namespace of its own; each tool's storage is in
// a temp dir. Prints a table; asserts nothing.
//   npm run bench:build [-- --runs 3]
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { buildImage } from '../../pkg/ctl/build-session.ts';
import { TSNETCTL } from '../ctl/cli.ts';
import { startTestAgent } from '../helpers/agent.ts';
import { TEST_IMAGE } from '../helpers/engine.ts';
import { withNetnses } from '../helpers/netns.ts';
import { writeBusyboxLayout } from '../helpers/registry.ts';

const run = promisify(execFile);
const i = process.argv.indexOf('--runs');
const RUNS = i >= 0 ? Number(process.argv[i + 1]) : 3;
if (!Number.isInteger(RUNS) || RUNS <= 0) throw new Error('--runs: a positive integer');

const dockerfile = (base: string) => `FROM ${base}
ENV GREETING=bench
COPY data.txt /data.txt
RUN echo "$GREETING" > /run.txt && cat /data.txt >> /run.txt
CMD ["sh", "-c", "cat /run.txt"]
`;

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await fn();
  return performance.now() - start;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? Number.NaN;
}

interface Row {
  tool: string;
  cold?: number;
  cached?: number;
  note?: string;
}

async function measure(
  build: (noCache: boolean) => Promise<unknown>,
): Promise<{ cold: number; cached: number }> {
  await build(false); // warm the base image and the cache
  const cold: number[] = [];
  const cached: number[] = [];
  for (let n = 0; n < RUNS; n++) cold.push(await timed(() => build(true)));
  for (let n = 0; n < RUNS; n++) cached.push(await timed(() => build(false)));
  return { cold: median(cold), cached: median(cached) };
}

await withNetnses('bbld', 1, async ([ns]) => {
  const dir = mkdtempSync(join(tmpdir(), 'tbb-'));
  const netns = ns!.path;
  const rows: Row[] = [];
  const agent = startTestAgent(netns, dir);
  try {
    const client = await agent.connect();
    const ctlWith =
      (argv: readonly string[]) =>
      (...args: string[]) =>
        run(argv[0]!, [...argv.slice(1), '-H', `unix://${agent.socket}`, ...args], {
          maxBuffer: 16 << 20,
        });
    const ctl = ctlWith(TSNETCTL);
    const image = await writeBusyboxLayout(join(dir, 'layout'), 'v1', ['linux/amd64']);
    const archive = join(dir, 'busybox.tar');
    await run('skopeo', [
      'copy',
      '--quiet',
      `oci:${image.layout}:v1`,
      `docker-archive:${archive}:${TEST_IMAGE}`,
    ]);
    await ctl('load', '-q', '-i', archive);
    const ctx = join(dir, 'ctx');
    mkdirSync(ctx);
    writeFileSync(join(ctx, 'data.txt'), 'bench data\n');
    writeFileSync(join(ctx, 'Dockerfile'), dockerfile(TEST_IMAGE));
    const tsnetBuild = (tsnetctl: ReturnType<typeof ctlWith>) => (noCache: boolean) =>
      tsnetctl('build', '-q', ...(noCache ? ['--no-cache'] : []), '-t', 'bench/app', ctx);
    const shipped = resolve(import.meta.dirname, '../../dist/bin/tsnetctl');
    if (existsSync(shipped))
      rows.push({ tool: 'tsnet (dist/bin/tsnetctl)', ...(await measure(tsnetBuild(ctlWith([shipped])))) });
    else rows.push({ tool: 'tsnet (dist/bin/tsnetctl)', note: 'not measured: run npm run build first' });
    rows.push({ tool: 'tsnet (tsnetctl via tsx)', ...(await measure(tsnetBuild(ctl))) });
    rows.push({
      tool: 'tsnet agent (API, no CLI)',
      ...(await measure((noCache) =>
        buildImage(
          client,
          { kind: 'directory', dir: ctx },
          { tags: ['bench/app'], buildArgs: {}, noCache, pull: false },
          () => undefined,
        ),
      )),
    });
    client.close();

    const buildahRoot = join(dir, 'buildah');
    const buildah = (...args: string[]) =>
      run(
        'nsenter',
        [
          `--net=${netns}`,
          'buildah',
          '--root',
          join(buildahRoot, 'root'),
          '--runroot',
          join(buildahRoot, 'run'),
          '--storage-driver',
          'vfs',
          ...args,
        ],
        { maxBuffer: 16 << 20 },
      );
    try {
      await buildah('pull', '-q', `docker-archive:${archive}`);
      const bctx = join(dir, 'bctx');
      mkdirSync(bctx);
      writeFileSync(join(bctx, 'data.txt'), 'bench data\n');
      writeFileSync(join(bctx, 'Dockerfile'), dockerfile(TEST_IMAGE));
      rows.push({
        tool: 'buildah 1.28 (chroot, vfs)',
        // buildah's --layers cache refuses the test base image (it has no history): every build is cold
        note: 'no layer cache: --layers refuses a base without history',
        ...(await measure((noCache) =>
          buildah(
            'bud',
            '-q',
            '--isolation',
            'chroot',
            '--network',
            'host',
            '--pull-never',
            ...(noCache ? ['--no-cache'] : []),
            '-t',
            'bench/app',
            bctx,
          ),
        )),
      });
    } catch (err) {
      rows.push({
        tool: 'buildah',
        note: `not measured: ${((err as { stderr?: string }).stderr ?? (err as Error).message).split('\n')[0]}`,
      });
    } finally {
      await buildah('rm', '--all').catch(() => undefined);
      await buildah('rmi', '--all', '--force').catch(() => undefined);
    }

    const docker = await run('docker', ['info', '--format', '{{.ServerVersion}}']).catch(() => undefined);
    if (docker) {
      await run('docker', ['load', '-q', '-i', archive]);
      rows.push({
        tool: `docker ${docker.stdout.trim()}`,
        ...(await measure((noCache) =>
          run('docker', ['build', '-q', ...(noCache ? ['--no-cache'] : []), '-t', 'bench/app', ctx], {
            env: { ...process.env, DOCKER_BUILDKIT: '0' },
          }),
        )),
      });
      await run('docker', ['rmi', '-f', 'bench/app', TEST_IMAGE]).catch(() => undefined);
    } else rows.push({ tool: 'docker', note: 'not measured: no Docker daemon answers here' });
  } finally {
    await agent.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  const ms = (v: number | undefined) => (v === undefined ? '-' : `${v.toFixed(0)} ms`);
  console.log(`bench:build — five-step Dockerfile, median of ${RUNS} builds each`);
  console.log(`${'tool'.padEnd(30)}${'cold (--no-cache)'.padStart(20)}${'fully cached'.padStart(16)}`);
  for (const r of rows)
    console.log(
      `${r.tool.padEnd(30)}${ms(r.cold).padStart(20)}${ms(r.cached).padStart(16)}${r.note ? `  ${r.note}` : ''}`,
    );
});
