// tsnetctl's docker verbs against a fake agent (the real API server with canned handlers): what they print,
// how they stream, and the exit code of every kind of failure.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { withTempDir } from '../helpers/tmp.ts';
import { assertOneLineError, type Outcome, outcome, TSNETCTL, tsnetctl } from './cli.ts';
import { BUSYBOX_DIGEST, BUSYBOX_ID, type FakeAgent, withFakeAgent } from './fake-agent.ts';

const ESC = String.fromCharCode(27);

const withAgent = (fn: (agent: FakeAgent, dir: string) => Promise<void>) =>
  withTempDir((dir) => withFakeAgent(dir, (agent) => fn(agent, dir)));

/** tsnetctl with `input` on its stdin (a pipe). */
function tsnetctlWithInput(input: Buffer | string, args: string[]): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const child = spawn(TSNETCTL[0], [...TSNETCTL.slice(1), ...args]);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d));
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    child.stdin.end(input);
  });
}

/** tsnetctl under a pseudo-terminal (util-linux script): everything it drew, and its exit code. */
function tsnetctlOnTerminal(args: string[]): Promise<Outcome> {
  const quoted = [...TSNETCTL, ...args].map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(' ');
  return outcome('script', ['-qec', `stty cols 120; ${quoted}`, '/dev/null'], {
    ...process.env,
    TERM: 'xterm',
  });
}

test('images: docker table, -q, --digests, --no-trunc, --format json and templates', async (t) => {
  await withAgent(async (agent) => {
    const table = await tsnetctl('-H', agent.host, 'images');
    t.is(table.code, 0, table.stderr);
    const lines = table.stdout.trimEnd().split('\n');
    t.regex(lines[0] ?? '', /^REPOSITORY\s{3,}TAG\s{3,}IMAGE ID\s{3,}CREATED\s{3,}SIZE$/);
    t.regex(table.stdout, /^busybox\s+latest\s+3f57d9401f8d\s+2 days ago\s+4\.26MB$/m);
    t.regex(table.stdout, /^localhost:5000\/tools\/busybox\s+v1\s+3f57d9401f8d\s+2 days ago\s+4\.26MB$/m);
    t.regex(table.stdout, /^app\s+1\.0\s+9b2c71e0d4a5\s+3 hours ago\s+1\.23kB$/m);
    t.regex(table.stdout, /^<none>\s+<none>\s+0c1d2e3f4a5b\s+45 minutes ago\s+988MB$/m);
    // Columns line up: every row's TAG starts where the header's does.
    const tagAt = (lines[0] ?? '').indexOf('TAG');
    for (const l of lines.slice(1)) t.regex(l.slice(tagAt - 1), /^ \S/, `TAG column aligned: ${l}`);

    const quiet = await tsnetctl('-H', agent.host, 'images', '-q');
    t.deepEqual(
      quiet.stdout.trimEnd().split('\n'),
      ['3f57d9401f8d', '9b2c71e0d4a5', '0c1d2e3f4a5b'],
      'each ID once',
    );

    const digests = await tsnetctl('-H', agent.host, 'image', 'ls', '--digests', '--no-trunc');
    t.regex(digests.stdout, /^REPOSITORY\s+TAG\s+DIGEST\s+IMAGE ID\s+CREATED\s+SIZE$/m);
    t.regex(digests.stdout, new RegExp(`^busybox\\s+latest\\s+${BUSYBOX_DIGEST}\\s+${BUSYBOX_ID}\\s`, 'm'));

    const json = await tsnetctl('-H', agent.host, 'images', '--format', 'json');
    const rows = json.stdout
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, string>);
    t.is(rows.length, 4);
    t.like(rows[0], {
      Repository: 'busybox',
      Tag: 'latest',
      ID: '3f57d9401f8d',
      Size: '4.26MB',
      Digest: BUSYBOX_DIGEST,
    });

    const template = await tsnetctl('-H', agent.host, 'images', '--format', '{{.Repository}}:{{.Tag}}');
    t.deepEqual(template.stdout.trimEnd().split('\n'), [
      'busybox:latest',
      'localhost:5000/tools/busybox:v1',
      'app:1.0',
      '<none>:<none>',
    ]);
    const tableTemplate = await tsnetctl('-H', agent.host, 'images', '--format', 'table {{.ID}}\\t{{.Size}}');
    t.regex(tableTemplate.stdout, /^IMAGE ID\s+SIZE\n3f57d9401f8d\s+4\.26MB\n/);

    // A repository argument and -a/--filter reach the agent as docker's filters.
    await tsnetctl('-H', agent.host, 'images', '-a', '--filter', 'dangling=true', 'busybox');
    t.true(
      agent.calls.includes('List all=true filters=dangling=true,reference=busybox'),
      agent.calls.join('\n'),
    );
  });
});

test('inspect prints a JSON array in Docker shape; history a docker table', async (t) => {
  await withAgent(async (agent) => {
    const r = await tsnetctl('-H', agent.host, 'inspect', 'busybox');
    t.is(r.code, 0, r.stderr);
    const parsed = JSON.parse(r.stdout) as { Id: string; RootFS: { Layers: string[] } }[];
    t.true(Array.isArray(parsed));
    t.is(parsed[0]?.Id, BUSYBOX_ID);
    t.is(parsed[0]?.RootFS.Layers.length, 1);
    t.regex(r.stdout, /^\[\n {4}\{\n {8}"Id"/, "docker's four-space indent");

    const f = await tsnetctl(
      '-H',
      agent.host,
      'image',
      'inspect',
      '-f',
      '{{.Id}} {{json .RepoTags}} {{.Config.Cmd}}',
      'busybox',
    );
    t.is(f.stdout, `${BUSYBOX_ID} ["busybox:latest"] [sh]\n`);

    const missing = await tsnetctl('-H', agent.host, 'inspect', 'busybox', 'nosuch');
    t.is(missing.code, 1);
    t.is((JSON.parse(missing.stdout) as unknown[]).length, 1, 'what was found is still printed');
    t.is(missing.stderr, 'Error: No such object: nosuch\n');

    const h = await tsnetctl('-H', agent.host, 'history', 'busybox');
    t.regex(h.stdout, /^IMAGE\s+CREATED\s+CREATED BY\s+SIZE\s+COMMENT\n/);
    t.regex(
      h.stdout,
      /^3f57d9401f8d\s+5 days ago\s+\/bin\/sh -c #\(nop\) {2}CMD \["sh"\] and a long tai…\s+0B/m,
    );
    t.regex(h.stdout, /^<missing>\s+5 days ago\s+\/bin\/sh -c #\(nop\) ADD file:abc in \/\s+4\.26MB/m);
    const hq = await tsnetctl('-H', agent.host, 'history', '-q', '--no-trunc', 'busybox');
    t.deepEqual(hq.stdout.trimEnd().split('\n'), [BUSYBOX_ID, '<missing>']);
  });
});

test('pull when piped: plain ID: STATUS lines, one per status change, then the full name', async (t) => {
  await withAgent(async (agent) => {
    const r = await tsnetctl('-H', agent.host, 'pull', '--platform', 'linux/amd64', 'busybox');
    t.is(r.code, 0, r.stderr);
    const lines = r.stdout.trimEnd().split('\n');
    t.is(lines[0], 'latest: Pulling from library/busybox');
    t.is(
      lines.filter((l) => l === 'a3ed95caeb02: Downloading').length,
      1,
      'progress updates are not repeated',
    );
    t.true(lines.includes('5f70bf18a086: Pull complete'));
    t.false(r.stdout.includes('[=') || r.stdout.includes(ESC), 'no bars, no escapes');
    t.deepEqual(lines.slice(-3), [
      `Digest: ${BUSYBOX_DIGEST}`,
      'Status: Downloaded newer image for busybox:latest',
      'docker.io/library/busybox:latest',
    ]);
    t.true(agent.calls.includes('Pull busybox platform=linux/amd64 all=false'));

    const q = await tsnetctl('-H', agent.host, 'pull', '-q', 'busybox');
    t.is(q.stdout, 'docker.io/library/busybox:latest\n');
    // -a: every tag of the repository; a registry's port is not a tag.
    const all = await tsnetctl('-H', agent.host, 'pull', '-a', '-q', 'localhost:5000/tools/busybox');
    t.is(all.stdout, 'localhost:5000/tools/busybox\n', all.stderr);
    t.true(agent.calls.includes('Pull localhost:5000/tools/busybox platform= all=true'));

    const push = await tsnetctl('-H', agent.host, 'push', 'localhost:5000/tools/busybox:v1');
    t.regex(
      push.stdout,
      /^The push refers to repository \[localhost:5000\/tools\/busybox:v1\]\na3ed95caeb02: Preparing\na3ed95caeb02: Pushing\na3ed95caeb02: Pushed\nlatest: digest: /,
    );
  });
});

test('pull on a terminal draws per-layer bars and ends clean', async (t) => {
  await withAgent(async (agent) => {
    const r = await tsnetctlOnTerminal(['-H', agent.host, 'pull', 'busybox']);
    t.is(r.code, 0, r.stdout);
    t.regex(
      r.stdout,
      /a3ed95caeb02: Downloading\s+\[=+>\s*\]\s+[\d.]+[kM]B\/2\.13MB/,
      'a bar with byte counts',
    );
    t.regex(r.stdout, /5f70bf18a086: Pull complete/);
    t.true(r.stdout.includes(`${ESC}[?25l`), 'the cursor hidden while drawing');
    // The end: cursor back, then Digest, Status and the name on lines of their own.
    const tail = r.stdout.slice(r.stdout.lastIndexOf(`${ESC}[?25h`));
    t.regex(
      tail,
      new RegExp(
        `Digest: ${BUSYBOX_DIGEST}\\r?\\nStatus: Downloaded newer image for busybox:latest\\r?\\ndocker\\.io/library/busybox:latest\\r?\\n$`,
      ),
    );
  });
});

test('load -i streams the file exactly; load from stdin; save to a file, a pipe, never a terminal', async (t) => {
  await withAgent(async (agent, dir) => {
    const archive = join(dir, 'busybox.tar');
    const bytes = Buffer.alloc(3_000_000 + 17);
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 2654435761) >>> 24;
    writeFileSync(archive, bytes);
    const sha256 = createHash('sha256').update(bytes).digest('hex');

    const r = await tsnetctl('-H', agent.host, 'load', '-i', archive);
    t.is(r.code, 0, r.stderr);
    t.deepEqual(agent.loaded.at(-1), { sha256, bytes: bytes.length });
    t.regex(r.stdout, new RegExp(`Loaded image: busybox:latest\nLoaded image ID: sha256:${sha256}\n$`));
    const q = await tsnetctl('-H', agent.host, 'image', 'load', '-q', '-i', archive);
    t.is(q.stdout, `Loaded image: busybox:latest\nLoaded image ID: sha256:${sha256}\n`, '-q: no layer lines');

    const piped = await tsnetctlWithInput(bytes, ['-H', agent.host, 'load']);
    t.is(piped.code, 0, piped.stderr);
    t.deepEqual(agent.loaded.at(-1), { sha256, bytes: bytes.length });

    const missing = await tsnetctl('-H', agent.host, 'load', '-i', join(dir, 'nope.tar'));
    assertOneLineError(t, missing, /^tsnetctl: ENOENT: no such file or directory/);
    t.is(missing.code, 1);

    const out = join(dir, 'saved.tar');
    const saved = await tsnetctl('-H', agent.host, 'save', '-o', out, 'busybox', 'app');
    t.is(saved.code, 0, saved.stderr);
    t.is(readFileSync(out).length, 400_000);
    t.true(agent.calls.includes('Save busybox,app'));
    const failed = await tsnetctl('-H', agent.host, 'save', '-o', join(dir, 'bad.tar'), 'nosuch');
    assertOneLineError(t, failed, /^Error response from daemon: No such image: nosuch$/m);
    t.throws(() => readFileSync(join(dir, 'bad.tar')), undefined, 'no partial archive');

    const stdout = await tsnetctl('-H', agent.host, 'save', 'busybox');
    t.is(stdout.stdout.length, 400_000, 'the tar on a pipe');
    const tty = await tsnetctlOnTerminal(['-H', agent.host, 'save', 'busybox']);
    t.is(tty.code, 1);
    t.regex(
      tty.stdout,
      /^tsnetctl: cowardly refusing to save to a terminal\. Use the -o flag or redirect\r?\n$/m,
    );
  });
});

test('tag, rmi, image prune, import, login/logout, version, info', async (t) => {
  await withAgent(async (agent, dir) => {
    t.is((await tsnetctl('-H', agent.host, 'tag', 'busybox', 'localhost:5000/me/busybox:v2')).code, 0);
    t.true(agent.calls.includes('Tag busybox localhost:5000/me/busybox:v2'));

    const rmi = await tsnetctl('-H', agent.host, 'rmi', '-f', '--no-prune', 'busybox', 'inuse');
    t.is(rmi.code, 1, 'one of them failed');
    t.is(rmi.stdout, `Untagged: busybox:latest\nDeleted: ${BUSYBOX_ID}\n`);
    t.regex(
      rmi.stderr,
      /^Error response from daemon: conflict: unable to remove repository reference "inuse"/,
    );
    t.true(agent.calls.includes('Remove busybox force=true noPrune=true'));

    const prune = await tsnetctl('-H', agent.host, 'image', 'prune', '-a', '-f');
    t.regex(
      prune.stdout,
      /^Deleted Images:\ndeleted: sha256:0c1d2e3f4a5b\w+\n\nTotal reclaimed space: 988MB\n$/,
    );
    const declined = await tsnetctlWithInput('n\n', ['-H', agent.host, 'image', 'prune']);
    t.regex(
      declined.stdout,
      /WARNING! This will remove all dangling images\.\nAre you sure you want to continue\? \[y\/N\] $/,
    );
    t.is(agent.calls.filter((c) => c.startsWith('Prune')).length, 1, 'declined: nothing pruned');

    const rootfs = join(dir, 'rootfs.tar');
    writeFileSync(rootfs, 'not really a tar, the fake hashes it');
    const imported = await tsnetctl(
      '-H',
      agent.host,
      'import',
      '-m',
      'hello',
      '-c',
      'CMD ["sh"]',
      rootfs,
      'mine:1',
    );
    t.is(imported.stdout, `sha256:${createHash('sha256').update(readFileSync(rootfs)).digest('hex')}\n`);
    t.true(agent.calls.includes('Import mine:1 hello CMD ["sh"]'));

    const login = await tsnetctlWithInput('secret\n', [
      '-H',
      agent.host,
      'login',
      '-u',
      'me',
      '--password-stdin',
      'localhost:5000',
    ]);
    t.is(login.stdout, 'Login Succeeded\n', login.stderr);
    t.true(agent.calls.includes('Login localhost:5000 me:secret'));
    const denied = await tsnetctl('-H', agent.host, 'login', '-u', 'me', '-p', 'wrong', 'localhost:5000');
    t.is(denied.code, 1);
    t.regex(
      denied.stderr,
      /^WARNING! Using --password via the CLI is insecure\. Use --password-stdin\.\nError response from daemon: .*unauthorized/,
    );
    t.is(
      (await tsnetctl('-H', agent.host, 'logout', 'localhost:5000')).stdout,
      'Removing login credentials for localhost:5000\n',
    );

    const version = await tsnetctl('-H', agent.host, 'version');
    t.regex(version.stdout, /^Client:\n Version:\s+0\.\d+\.\d+\n API version:\s+1\.0\n/);
    t.regex(version.stdout, /\nServer:\n Engine:\n {2}Version:\s+9\.9\.9\n/);
    const vjson = JSON.parse((await tsnetctl('-H', agent.host, 'version', '--format', 'json')).stdout) as {
      Server: { Version: string };
    };
    t.is(vjson.Server.Version, '9.9.9');
    t.is((await tsnetctl('-H', agent.host, 'version', '-f', '{{.Server.APIVersion}}')).stdout, '1.0\n');

    const info = await tsnetctl('-H', agent.host, 'info');
    t.regex(info.stdout, /^ Images: 3$/m);
    t.regex(info.stdout, /^ Storage Driver: overlay$/m);
    t.regex(info.stdout, /^ Total Memory: 3\.84GiB$/m);
    t.is(
      (await tsnetctl('-H', agent.host, 'info', '--format', '{{.Name}} {{.NCPU}}')).stdout,
      'fake-node 2\n',
    );
  });
});

test('events: docker lines, --filter and --since reach the agent', async (t) => {
  await withAgent(async (agent) => {
    agent.events.publish('image', 'pull', 'busybox:latest', { name: 'busybox' });
    agent.events.publish('container', 'start', 'c1');
    const child = spawn(TSNETCTL[0], [
      ...TSNETCTL.slice(1),
      '-H',
      agent.host,
      'events',
      '--since',
      '1h',
      '--filter',
      'type=image',
    ]);
    let stdout = '';
    const first = new Promise<void>((resolve) =>
      child.stdout.on('data', (d: Buffer) => {
        stdout += d;
        if (stdout.includes('\n')) resolve();
      }),
    );
    try {
      await first;
    } finally {
      child.kill('SIGTERM');
    }
    t.regex(stdout, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z image pull busybox:latest \(name=busybox\)\n$/);
  });
});

test('every failure: one line, docker exit codes, never a stack trace', async (t) => {
  await withAgent(async (agent, dir) => {
    const cases: [string[], RegExp, number][] = [
      [
        ['pull'],
        /^tsnetctl: "tsnetctl pull" requires exactly 1 argument \(see 'tsnetctl pull --help'\)$/m,
        1,
      ],
      [
        ['pull', '-a', 'localhost:5000/tools/busybox:v1'],
        /^tsnetctl: tag can't be used with --all-tags\/-a$/m,
        1,
      ],
      [['tag', 'busybox'], /^tsnetctl: "tsnetctl tag" requires exactly 2 arguments/, 1],
      [['images', '--bogus'], /^tsnetctl: unknown flag: --bogus \(see 'tsnetctl images --help'\)$/m, 125],
      [['inspect', '--type', 'bogus', 'x'], /--type/, 125],
      [['pull', 'Busybox'], /^tsnetctl: invalid image reference "Busybox": .*must be lowercase$/m, 1],
      [['tag', 'busybox', 'bad::tag'], /^tsnetctl: invalid image reference "bad::tag"/, 1],
      [
        ['images', '--format', '{{.Nope}}'],
        /^tsnetctl: template: executing at <\{\{\.Nope\}\}>: can't evaluate field Nope$/m,
        1,
      ],
      [
        ['images', '--format', '{{frob .ID}}'],
        /^tsnetctl: template parsing error: function "frob" not defined$/m,
        1,
      ],
      [['pull', 'nosuch'], /^Error response from daemon: manifest for nosuch not found$/m, 1],
      [['tag', 'nosuch', 'x'], /^Error response from daemon: No such image: nosuch$/m, 1],
      [['history', 'nosuch'], /^Error response from daemon: No such image: nosuch$/m, 1],
      [
        ['login', '-u', 'me', 'r'],
        /^tsnetctl: Cannot perform an interactive login from a non TTY device$/m,
        1,
      ],
      [['events', '--since', 'yesterday'], /^tsnetctl: --since "yesterday": expected/, 125],
    ];
    // Independent runs, started together: each is a Node start-up on a loaded machine.
    const outcomes = await Promise.all(
      cases.map(([args]) => tsnetctlWithInput('', ['-H', agent.host, ...args])),
    );
    cases.forEach(([args, pattern, code], i) => {
      const r = outcomes[i] as Outcome;
      assertOneLineError(t, r, pattern);
      t.is(r.code, code, args.join(' '));
    });
    const socket = join(dir, 'no-agent.sock');
    for (const env of [{ ...process.env, TSNET_HOST: `unix://${socket}` }]) {
      const r = await outcome(TSNETCTL[0], [...TSNETCTL.slice(1), 'images'], env);
      assertOneLineError(
        t,
        r,
        new RegExp(`^tsnetctl: cannot connect to the tsnet agent at unix://${socket}: connect ENOENT`),
      );
      t.is(r.code, 1);
    }
    // version without an agent: the client section, then why there is no server section.
    const lone = await tsnetctl('-H', `unix://${socket}`, 'version');
    t.is(lone.code, 1);
    t.regex(lone.stdout, /^Client:\n Version:/);
    t.notRegex(lone.stdout, /Server:/);
    t.regex(
      lone.stderr,
      /^tsnetctl: cannot connect to the tsnet agent at unix:\/\/.*no-agent\.sock: connect ENOENT/,
    );
    const badHost = await tsnetctl('-H', 'tcp://1.2.3.4:2375', 'images');
    assertOneLineError(t, badHost, /^tsnetctl: invalid host "tcp:\/\/1\.2\.3\.4:2375"/);
    t.is(badHost.code, 125);
  });
});
