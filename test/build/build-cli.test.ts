// tsnetctl build and commit against a real agent (withEngine: busybox loaded): a multi-step Dockerfile with
// RUN in both forms, COPY, ENV, WORKDIR and CMD; the image runs and prints what its RUNs wrote; a rebuild is
// all cached; a changed file invalidates from its COPY on; a failing RUN stops the build with Docker's message
// and leaves no container, mount, snapshot or blob behind; a changed container committed and run.
import { execFileSync, spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import test from 'ava';
import type { Outcome } from '../ctl/cli.ts';
import { type Engine, TEST_IMAGE, withEngine } from '../helpers/engine.ts';
import { appContext, layerEntries } from './build-world.ts';

const USING_CACHE = ' ---> Using cache';

/** The build's output cut into steps: each step's instruction and whether it printed as cached. */
function steps(stdout: string): { instruction: string; cached: boolean }[] {
  const out: { instruction: string; cached: boolean }[] = [];
  for (const line of stdout.split('\n')) {
    const m = /^Step \d+\/\d+ : (.*)$/.exec(line);
    if (m) out.push({ instruction: m[1]!, cached: false });
    else if (line === USING_CACHE && out.length > 0) out.at(-1)!.cached = true;
  }
  return out;
}

/** tsnetctl with `file` as its stdin (binary: a tar). */
function ctlWithStdinFile(e: Engine, file: string, ...args: string[]): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const fd = openSync(file, 'r');
    const child = spawn(e.argv[0]!, [...e.argv.slice(1), ...args], { stdio: [fd, 'pipe', 'pipe'] });
    closeSync(fd);
    let stdout = '';
    let stderr = '';
    child.stdout?.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
    });
    child.stderr?.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    child.once('error', reject);
    child.once('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

/** What the agent has made that a failed build must not leave: mounts under its dirs, snapshots, blobs. */
async function leftovers(e: Engine) {
  const mounts = (await readFile('/proc/self/mountinfo', 'utf8'))
    .split('\n')
    .filter((l) => l.includes(e.dir)).length;
  const data = join(e.dir, 'data');
  const list = (p: string) => readdir(p).catch(() => [] as string[]);
  return {
    mounts,
    snapshots: (await list(join(data, 'snapshots', 'snapshots'))).length,
    blobs: (await list(join(data, 'content', 'blobs', 'sha256'))).length,
    scratch: (await list(join(data, 'tmp'))).filter((n) => !n.startsWith('.')).length,
  };
}

test('build: RUN (shell and exec), COPY, ENV, WORKDIR, CMD; the image runs; rebuild cached; a change invalidates from its COPY', async (t) => {
  await withEngine(t, async (e) => {
    const ctx = await appContext(e.dir);
    const first = await e.ctl('build', '-t', 'tsnet-test/app:1', ctx);
    t.is(first.code, 0, first.stderr + first.stdout);
    t.regex(first.stdout, /^Step 1\/7 : FROM tsnet-test\/busybox:latest$/m);
    t.regex(first.stdout, /^ ---> Running in [0-9a-f]{12}$/m);
    t.regex(first.stdout, /^hello from a shell RUN in \/app$/m, 'the RUN output streams');
    t.regex(first.stdout, /^ ---> [0-9a-f]{12}$/m);
    t.regex(first.stdout, /^Successfully built [0-9a-f]{12}$/m);
    t.regex(first.stdout, /^Successfully tagged tsnet-test\/app:1$/m);
    t.false(first.stdout.includes(USING_CACHE));

    const run = await e.ctl('run', '--rm', 'tsnet-test/app:1');
    t.is(run.code, 0, run.stderr);
    t.is(run.stdout, 'hello from a shell RUN in /app\nmessage v1\nexec form\n');
    const inspect = JSON.parse((await e.ctl('image', 'inspect', 'tsnet-test/app:1')).stdout) as {
      Config: { Env: string[]; WorkingDir: string; Cmd: string[] };
    }[];
    t.true(inspect[0]!.Config.Env.includes('GREETING=hello'));
    t.is(inspect[0]!.Config.WorkingDir, '/app');
    t.deepEqual(inspect[0]!.Config.Cmd, ['sh', '-c', 'cat /app/run.txt /app/exec.txt']);
    const mode = await e.ctl('run', '--rm', 'tsnet-test/app:1', 'ls', '-l', '/app/exec.txt');
    t.regex(mode.stdout, /^-rw------- /, 'RUN chmod kept in the layer');

    const second = await e.ctl('build', '-t', 'tsnet-test/app:1', ctx);
    t.is(second.code, 0, second.stderr);
    const cached = steps(second.stdout);
    t.is(cached.length, 7);
    t.deepEqual(
      cached.slice(1).filter((s) => !s.cached),
      [],
      `every step after FROM cached:\n${second.stdout}`,
    );
    t.notRegex(second.stdout, /Running in/, 'no RUN ran');

    await writeFile(join(ctx, 'msg.txt'), 'message v2\n');
    const third = await e.ctl('build', '-t', 'tsnet-test/app:2', ctx);
    t.is(third.code, 0, third.stderr);
    t.deepEqual(
      steps(third.stdout).map((s) => s.cached),
      [false, true, true, false, false, false, false],
      third.stdout,
    );
    const rerun = await e.ctl('run', '--rm', 'tsnet-test/app:2');
    t.is(rerun.stdout, 'hello from a shell RUN in /app\nmessage v2\nexec form\n');
  });
});

test('build -q, a tar context on stdin, --build-arg and --target', async (t) => {
  await withEngine(t, async (e) => {
    const ctx = join(e.dir, 'ctx');
    await mkdir(ctx);
    await writeFile(
      join(ctx, 'Build.df'),
      `FROM ${TEST_IMAGE} AS base
ARG FLAVOUR=plain
RUN echo "flavour $FLAVOUR" > /flavour
FROM base AS extra
RUN echo extra > /extra
`,
    );
    await writeFile(join(ctx, '.dockerignore'), 'secret\n');
    await writeFile(join(ctx, 'secret'), 'no\n');
    const tar = join(e.dir, 'ctx.tar');
    execFileSync('tar', ['-cf', tar, '-C', ctx, '.']);
    const built = await ctlWithStdinFile(
      e,
      tar,
      'build',
      '-q',
      '-f',
      'Build.df',
      '--build-arg',
      'FLAVOUR=spicy',
      '--target',
      'base',
      '-t',
      'tsnet-test/flavour',
      '-',
    );
    t.is(built.code, 0, built.stderr);
    t.regex(built.stdout, /^sha256:[0-9a-f]{64}\n$/);
    const run = await e.ctl('run', '--rm', 'tsnet-test/flavour', 'sh', '-c', 'cat /flavour; ls /extra');
    t.regex(run.stdout, /^flavour spicy\n/);
    t.not(run.code, 0, 'the extra stage was not built into the target');
  });
});

test('build -f - CONTEXT and build - with a Dockerfile on stdin; an image built without -t is <none> <none>', async (t) => {
  await withEngine(t, async (e) => {
    const ctx = join(e.dir, 'ctx');
    await mkdir(ctx);
    await writeFile(join(ctx, 'Dockerfile'), 'FROM scratch\nNOT A DOCKERFILE\n'); // -f - must win over it
    await writeFile(join(ctx, 'msg.txt'), 'from the context\n');
    const stdinDockerfile = join(e.dir, 'stdin.df');
    await writeFile(
      stdinDockerfile,
      `FROM ${TEST_IMAGE}\nCOPY msg.txt /msg.txt\nCMD ["sh", "-c", "read l < /msg.txt; echo $l"]\n`,
    );
    const built = await ctlWithStdinFile(e, stdinDockerfile, 'build', '-q', '-f', '-', ctx);
    t.is(built.code, 0, built.stderr);
    const id = built.stdout.trim();
    t.regex(id, /^sha256:[0-9a-f]{64}$/);
    const ran = await e.ctl('run', '--rm', id);
    t.is(ran.stdout, 'from the context\n', ran.stderr);

    // no -t: Docker's dangling image
    const rows = (await e.ctl('images', '--format', '{{.Repository}} {{.Tag}} {{.ID}}')).stdout;
    t.true(rows.split('\n').includes(`<none> <none> ${id.slice(7, 19)}`), rows);
    t.regex((await e.ctl('images')).stdout, new RegExp(`^<none>\\s+<none>\\s+${id.slice(7, 19)}\\s`, 'm'));
    const inspected = JSON.parse((await e.ctl('inspect', '--type', 'image', id)).stdout) as {
      RepoTags: string[];
      RepoDigests: string[];
    }[];
    t.deepEqual(inspected[0]?.RepoTags, []);
    t.deepEqual(inspected[0]?.RepoDigests, []);
    // named later, its last name removed: the image goes, as Docker's
    t.is((await e.ctl('tag', id, 'tsnet-test/named:1')).code, 0);
    const rmi = await e.ctl('rmi', 'tsnet-test/named:1');
    t.is(rmi.code, 0, rmi.stderr);
    t.true(rmi.stdout.startsWith(`Untagged: tsnet-test/named:1\nDeleted: ${id}\n`), rmi.stdout);
    t.not((await e.ctl('inspect', '--type', 'image', id)).code, 0, 'the image went with its last name');

    // `-` with a Dockerfile (not a tar) on stdin: an empty context
    const plain = join(e.dir, 'plain.df');
    await writeFile(
      plain,
      `FROM ${TEST_IMAGE}\nRUN echo from stdin > /m\nCMD ["sh", "-c", "read l < /m; echo $l"]\n`,
    );
    const fromStdin = await ctlWithStdinFile(e, plain, 'build', '-q', '-t', 'tsnet-test/stdin', '-');
    t.is(fromStdin.code, 0, fromStdin.stderr);
    t.is((await e.ctl('run', '--rm', 'tsnet-test/stdin')).stdout, 'from stdin\n');
    const both = await ctlWithStdinFile(e, plain, 'build', '-f', '-', '-');
    t.is(both.code, 125, 'a usage error');
    t.regex(both.stderr, /can't use stdin for both build context and dockerfile/);
    const empty = join(e.dir, 'empty.df');
    await writeFile(empty, '\n');
    const nothing = await ctlWithStdinFile(e, empty, 'build', '-f', '-', ctx);
    t.not(nothing.code, 0);
    t.regex(nothing.stderr, /Dockerfile on STDIN is empty/);
  });
});

test('build: a failing RUN stops the build with its output and Docker message; nothing is left behind', async (t) => {
  await withEngine(t, async (e) => {
    const ctx = join(e.dir, 'ctx');
    await mkdir(ctx);
    await writeFile(
      join(ctx, 'Dockerfile'),
      `FROM ${TEST_IMAGE}\nENV A=1\nRUN echo before the failure\nRUN false\nRUN echo never\n`,
    );
    // The passing steps once, and a RUN over them (which unpacks their layer as a snapshot, as the failing RUN
    // will): what the failing build adds is then counted from there.
    await writeFile(
      join(ctx, 'Dockerfile.ok'),
      `FROM ${TEST_IMAGE}\nENV A=1\nRUN echo before the failure\nRUN true\n`,
    );
    t.is((await e.ctl('build', '-f', join(ctx, 'Dockerfile.ok'), ctx)).code, 0);
    const before = await leftovers(e);
    const failed = await e.ctl('build', '-t', 'tsnet-test/broken', ctx);
    t.is(failed.code, 1);
    t.regex(failed.stdout, /^Step 4\/5 : RUN false$/m);
    t.notRegex(failed.stdout, /never/);
    t.is(failed.stderr, "Dockerfile:4: The command '/bin/sh -c false' returned a non-zero code: 1\n");
    t.is((await e.ctl('ps', '-aq')).stdout, '', 'no build container left');
    t.deepEqual(await leftovers(e), before, 'no mount, snapshot, blob or scratch dir left');
    const images = await e.ctl('images', '--format', '{{.Repository}}');
    t.false(images.stdout.includes('broken'));

    const bad = await e.ctl('build', ctx, '-f', join(ctx, 'nope'));
    t.is(bad.code, 1);
    await writeFile(join(ctx, 'Dockerfile.bad'), `FROM ${TEST_IMAGE}\nFROBNICATE now\n`);
    const unknown = await e.ctl('build', '-f', join(ctx, 'Dockerfile.bad'), ctx);
    t.is(unknown.code, 1);
    t.regex(unknown.stderr, /Dockerfile\.bad:2: .*FROBNICATE/i);
  });
});

test('commit: a changed container (a new file, a deleted one) as an image with -c, -m, -a; it runs', async (t) => {
  await withEngine(t, async (e) => {
    const started = await e.ctl(
      'run',
      '-d',
      '--name',
      'changed',
      TEST_IMAGE,
      'sh',
      '-c',
      'echo committed > /data.txt && rm /etc/motd && touch /ready && sleep 600',
    );
    t.is(started.code, 0, started.stderr);
    for (let i = 0; i < 100 && (await e.ctl('exec', 'changed', 'ls', '/ready')).code !== 0; i++)
      await new Promise((r) => setTimeout(r, 100));
    const committed = await e.ctl(
      'commit',
      '-m',
      'a test commit',
      '-a',
      'tsnet tests',
      '-c',
      'CMD ["sh", "-c", "cat /data.txt; ls /etc/motd"]',
      '-c',
      'ENV COMMITTED=yes',
      'changed',
      'tsnet-test/committed:1',
    );
    t.is(committed.code, 0, committed.stderr);
    t.regex(committed.stdout, /^sha256:[0-9a-f]{64}\n$/);
    const state = JSON.parse((await e.ctl('inspect', 'changed')).stdout) as { State: { Status: string } }[];
    t.is(state[0]!.State.Status, 'running', 'unpaused after the commit');

    const run = await e.ctl('run', '--rm', 'tsnet-test/committed:1');
    t.is(run.stdout, 'committed\n');
    t.regex(run.stderr, /motd/, 'the deleted file stays deleted (a whiteout)');
    const env = await e.ctl('run', '--rm', 'tsnet-test/committed:1', 'sh', '-c', 'echo $COMMITTED');
    t.is(env.stdout, 'yes\n');
    const image = JSON.parse((await e.ctl('image', 'inspect', 'tsnet-test/committed:1')).stdout) as {
      Author: string;
      Comment: string;
      RootFS: { Layers: string[] };
    }[];
    t.is(image[0]!.Author, 'tsnet tests');
    t.is(image[0]!.RootFS.Layers.length, 3);
    const history = await e.ctl(
      'history',
      '--no-trunc',
      '--format',
      '{{.Comment}}',
      'tsnet-test/committed:1',
    );
    t.regex(history.stdout, /^a test commit$/m);
    const layer = (await layerEntries(e, 'tsnet-test/committed:1')).at(-1) ?? [];
    t.true(layer.includes('data.txt'), layer.join(' '));
    t.true(layer.includes('etc/.wh.motd'), 'the deletion as a whiteout');
    t.false(
      layer.some((n) => /^etc\/(hosts|resolv\.conf|hostname)$/.test(n)),
      `no mount point files committed: ${layer.join(' ')}`,
    );

    const bad = await e.ctl('commit', '-c', 'FROM x', 'changed');
    t.is(bad.code, 1);
    t.regex(bad.stderr, /invalid change/);
    const missing = await e.ctl('commit', 'no-such-container');
    t.is(missing.code, 1);
  });
});
