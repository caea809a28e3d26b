// tsnetctl's container verbs end to end against a fake runtime agent (the real API server with in-memory
// handlers): exit codes passed through, stdout and stderr kept apart, docker's output and its refusals.
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import tar from 'tar-stream';
import { withTempDir } from '../helpers/tmp.ts';
import { assertOneLineError, type Outcome, outcome, TSNETCTL, tsnetctl } from './cli.ts';
import { exit, type FakeRuntime, output, withFakeRuntime } from './fake-runtime.ts';

const withRuntime = (fn: (rt: FakeRuntime, dir: string) => Promise<void>) =>
  withTempDir((dir) => withFakeRuntime(dir, (rt) => fn(rt, dir)));

/** tsnetctl with `input` on its stdin, as raw bytes. */
function tsnetctlWithInput(input: Buffer | string, args: string[]): Promise<Outcome & { raw: Buffer }> {
  return new Promise((resolve, reject) => {
    const child = spawn(TSNETCTL[0], [...TSNETCTL.slice(1), ...args]);
    const out: Buffer[] = [];
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => {
      const raw = Buffer.concat(out);
      resolve({ code: code ?? -1, stdout: raw.toString(), stderr, raw });
    });
    child.stdin.end(input);
  });
}

const byName = (rt: FakeRuntime, name: string) => [...rt.containers.values()].find((c) => c.name === name);

test('run: the container exit code is tsnetctl exit code, stdout and stderr stay apart, attached before start', async (t) => {
  await withRuntime(async (rt) => {
    const r = await tsnetctl(
      '-H',
      rt.host,
      'run',
      '--name',
      'one',
      '-e',
      'A=1',
      'busybox',
      'exit',
      '3',
      'hello',
      'oops',
    );
    t.is(r.code, 3, r.stderr);
    t.is(r.stdout, 'hello\n');
    t.is(r.stderr, 'oops\n');
    const [created] = rt.created;
    t.like(created, { name: 'one', pullMissing: false });
    t.deepEqual(created?.spec.Cmd, ['exit', '3', 'hello', 'oops']);
    t.deepEqual(created?.spec.Env, ['A=1']);
    t.like(created?.spec, { AttachStdout: true, AttachStderr: true, Tty: false });
    t.deepEqual(rt.calls.slice(0, 2), ['Attach one logs=true size=null', 'Start one']);

    const zero = await tsnetctl('-H', rt.host, 'run', '--rm', 'busybox', 'exit', '0');
    t.is(zero.code, 0, zero.stderr);
    t.is(rt.containers.size, 1, '--rm: gone when run returns');
  });
});

test('run -i forwards stdin to the container and closes it at EOF', async (t) => {
  await withRuntime(async (rt) => {
    const r = await tsnetctlWithInput('first\nsecond\n', ['-H', rt.host, 'run', '-i', 'busybox', 'cat']);
    t.is(r.code, 0, r.stderr);
    t.is(r.stdout, 'first\nsecond\n');
  });
});

test('run -d prints the ID; ps shows it (table, -q, --format, json); inspect prints a JSON array', async (t) => {
  await withRuntime(async (rt) => {
    const d = await tsnetctl(
      '-H',
      rt.host,
      'run',
      '-d',
      '--name',
      'web',
      '-l',
      'tier=front',
      'nginx',
      'sleep',
    );
    t.is(d.code, 0, d.stderr);
    t.regex(d.stdout, /^[0-9a-f]{64}\n$/);
    const id = d.stdout.trim();
    t.is(byName(rt, 'web')?.state, 'running');

    const [table, quiet, format, json, inspect] = await Promise.all([
      tsnetctl('-H', rt.host, 'ps'),
      tsnetctl('-H', rt.host, 'ps', '-q'),
      tsnetctl(
        '-H',
        rt.host,
        'container',
        'ls',
        '--format',
        '{{.ID}} {{.Names}} {{.Image}} {{.Status}} {{.Labels}}',
      ),
      tsnetctl('-H', rt.host, 'ps', '--format', 'json'),
      tsnetctl('-H', rt.host, 'inspect', 'web'),
    ]);
    t.regex(
      table.stdout,
      /^CONTAINER ID\s{3,}IMAGE\s{3,}COMMAND\s{3,}CREATED\s{3,}STATUS\s{3,}PORTS\s{3,}NAMES\n/,
    );
    t.regex(
      table.stdout,
      new RegExp(
        `^${id.slice(0, 12)}\\s+nginx\\s+"sleep"\\s+.+ ago\\s+Up 2 seconds\\s+0\\.0\\.0\\.0:8080->80/tcp\\s+web$`,
        'm',
      ),
    );
    t.is(quiet.stdout, `${id.slice(0, 12)}\n`);
    t.is(format.stdout, `${id.slice(0, 12)} web nginx Up 2 seconds tier=front\n`);
    t.like(JSON.parse(json.stdout) as object, {
      Names: 'web',
      State: 'running',
      Ports: '0.0.0.0:8080->80/tcp',
    });
    const inspected = JSON.parse(inspect.stdout) as { Id: string; Name: string }[];
    t.is(inspected.length, 1);
    t.like(inspected[0], { Id: id, Name: '/web' });

    const [missing, port, top, stats] = await Promise.all([
      tsnetctl('-H', rt.host, 'container', 'inspect', 'nosuch'),
      tsnetctl('-H', rt.host, 'port', 'web'),
      tsnetctl('-H', rt.host, 'top', 'web'),
      tsnetctl('-H', rt.host, 'stats', '--no-stream', 'web'),
    ]);
    t.is(missing.code, 1);
    t.is(missing.stderr, 'Error: No such container: nosuch\n');
    t.is(missing.stdout, '[]\n');
    t.is(port.stdout, '80/tcp -> 0.0.0.0:8080\n');
    t.regex(top.stdout, /^UID\s+PID\s+CMD\nroot\s+4242\s+sleep 1000\n$/);
    t.regex(
      stats.stdout,
      /^CONTAINER ID\s+NAME\s+CPU %\s+MEM USAGE \/ LIMIT\s+MEM %\s+NET I\/O\s+BLOCK I\/O\s+PIDS\n/,
    );
    t.regex(stats.stdout, /\sweb\s+12\.35%\s+1\.5MiB \/ 1GiB\s+0\.15%\s+1\.2kB \/ 648B\s+0B \/ 4\.1kB\s+3$/m);
  });
});

test('lifecycle verbs print each name; a failure is one line and exit 1, the others still done', async (t) => {
  await withRuntime(async (rt) => {
    for (const name of ['a', 'b'])
      await tsnetctl('-H', rt.host, 'run', '-d', '--name', name, 'busybox', 'sleep');
    const stop = await tsnetctl('-H', rt.host, 'stop', '-t', '3', 'a', 'nosuch');
    t.is(stop.code, 1);
    t.is(stop.stdout, 'a\n');
    t.is(stop.stderr, 'Error response from daemon: No such container: nosuch\n');
    t.true(rt.calls.includes('Stop a 3'));

    const badSignal = await tsnetctl('-H', rt.host, 'kill', '-s', 'BOGUS', 'b');
    assertOneLineError(t, badSignal, /^Error response from daemon: Invalid signal: BOGUS$/m);
    const running = await tsnetctl('-H', rt.host, 'rm', 'b');
    assertOneLineError(t, running, /container is running/);
    const forced = await tsnetctl('-H', rt.host, 'rm', '-f', 'b');
    t.is(forced.stdout, 'b\n');
    const waited = await tsnetctl('-H', rt.host, 'wait', 'a');
    t.is(waited.stdout, '143\n');
    t.is((await tsnetctl('-H', rt.host, 'rename', 'a', 'renamed')).code, 0);
    t.truthy(byName(rt, 'renamed'));
    const pruned = await tsnetctl('-H', rt.host, 'container', 'prune', '-f');
    t.regex(pruned.stdout, /^Deleted Containers:\n[0-9a-f]{64}\n\nTotal reclaimed space: 2\.05kB\n$/);
  });
});

test('exec: the process exit code, streams apart; 127 from the agent; a stopped container is 125', async (t) => {
  await withRuntime(async (rt) => {
    await tsnetctl('-H', rt.host, 'run', '-d', '--name', 'x', 'busybox', 'sleep');
    const [ran, notFound, detached] = await Promise.all([
      tsnetctl('-H', rt.host, 'exec', '-e', 'K=v', 'x', 'exit', '4', 'out', 'err'),
      tsnetctl('-H', rt.host, 'exec', 'x', 'nosuchcmd'),
      tsnetctl('-H', rt.host, 'exec', '-d', 'x', 'exit', '9'),
    ]);
    t.is(ran.code, 4, ran.stderr);
    t.is(ran.stdout, 'out\n');
    t.is(ran.stderr, 'err\n');
    t.true(rt.calls.includes('Exec x exit 4 out err env=K=v'));
    t.is(notFound.code, 127);
    t.regex(notFound.stderr, /executable file not found/);
    t.is(detached.code, 0);
    await tsnetctl('-H', rt.host, 'stop', 'x');
    const stopped = await tsnetctl('-H', rt.host, 'exec', 'x', 'true');
    assertOneLineError(t, stopped, /^Error response from daemon: Container [0-9a-f]+ is not running$/m);
    t.is(stopped.code, 125);
  });
});

test('bad flags: one line, exit 125, no stack trace, nothing created', async (t) => {
  await withRuntime(async (rt) => {
    const cases: [string[], RegExp][] = [
      [
        ['run', '-m', '12x', 'busybox'],
        /^tsnetctl: invalid argument "12x" for "-m, --memory" flag: invalid size: '12x'$/m,
      ],
      [['run', '-p', '80:abc', 'busybox'], /^tsnetctl: invalid containerPort: abc$/m],
      [
        ['run', '--restart', 'sometimes', 'busybox'],
        /^tsnetctl: invalid restart policy: unknown policy 'sometimes'/,
      ],
      [
        ['create', '--bogus', 'busybox'],
        /^tsnetctl: unknown flag: --bogus \(see 'tsnetctl create --help'\)$/m,
      ],
      [['run', '--cpus', 'x', 'busybox'], /--cpus/],
      [['logs', '--since', 'yesterday', 'c'], /^tsnetctl: --since "yesterday": expected/],
      [['logs', '--tail', 'some', 'c'], /--tail/],
      [['ps', '-n', 'many'], /-n, --last/],
      [['cp', 'a', 'b'], /must specify at least one container source/],
    ];
    const outcomes = await Promise.all(cases.map(([args]) => tsnetctl('-H', rt.host, ...args)));
    cases.forEach(([args, pattern], i) => {
      const r = outcomes[i] as Outcome;
      assertOneLineError(t, r, pattern);
      t.is(r.code, 125, args.join(' '));
    });
    t.is(rt.created.length, 0, 'nothing reached the agent');
    const daemon = await tsnetctl('-H', rt.host, 'run', 'nosuch');
    assertOneLineError(t, daemon, /^Error response from daemon: No such image: nosuch:latest$/m);
    t.is(daemon.code, 125, "a daemon's refusal of run is 125, as docker's");
  });
});

test('no agent: one line naming the socket (run 125, ps 1)', async (t) => {
  await withTempDir(async (dir) => {
    const host = `unix://${join(dir, 'none.sock')}`;
    const [run, ps] = await Promise.all([tsnetctl('-H', host, 'run', 'busybox'), tsnetctl('-H', host, 'ps')]);
    for (const r of [run, ps])
      assertOneLineError(t, r, new RegExp(`cannot connect to the tsnet agent at ${host}`));
    t.is(run.code, 125);
    t.is(ps.code, 1);
  });
});

test('logs: stdout and stderr apart, --tail, -t timestamps, -f follows until the container exits', async (t) => {
  await withRuntime(async (rt) => {
    await tsnetctl('-H', rt.host, 'run', '--name', 'l', 'busybox', 'exit', '0', 'to-out', 'to-err');
    const [all, tail, stamped] = await Promise.all([
      tsnetctl('-H', rt.host, 'logs', 'l'),
      tsnetctl('-H', rt.host, 'logs', '--tail', '1', 'l'),
      tsnetctl('-H', rt.host, 'logs', '-t', '--since', '10m', 'l'),
    ]);
    t.is(all.stdout, 'to-out\n');
    t.is(all.stderr, 'to-err\n');
    t.is(tail.stdout, '');
    t.is(tail.stderr, 'to-err\n');
    t.regex(stamped.stdout, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z to-out\n$/);
    t.true(rt.calls.includes('Logs tail=-1 since=true follow=false'));

    await tsnetctl('-H', rt.host, 'run', '-d', '--name', 'f', 'busybox', 'sleep');
    const c = byName(rt, 'f');
    if (!c) return t.fail('no container');
    const child = spawn(TSNETCTL[0], [...TSNETCTL.slice(1), '-H', rt.host, 'logs', '-f', 'f']);
    let stdout = '';
    const firstLine = new Promise<void>((resolve) =>
      child.stdout.on('data', (d: Buffer) => {
        stdout += d;
        if (stdout.includes('\n')) resolve();
      }),
    );
    const closed = new Promise<number | null>((resolve) => child.on('close', resolve));
    // Lines written while it follows, until the follower has one.
    const writer = setInterval(() => output(c, 'stdout', 'tick'), 100);
    try {
      await firstLine;
    } finally {
      clearInterval(writer);
    }
    output(c, 'stdout', 'last');
    exit(c, 0);
    t.is(await closed, 0);
    t.regex(stdout, /^(tick\n)+last\n$/);
  });
});

test('cp: a container directory to a new local directory, a local directory into the container, a file as a tar on stdout', async (t) => {
  await withRuntime(async (rt, dir) => {
    await tsnetctl('-H', rt.host, 'run', '-d', '--name', 'c', 'busybox', 'sleep');
    const out = join(dir, 'out');
    const from = await tsnetctl('-H', rt.host, 'cp', 'c:/data', out);
    t.is(from.code, 0, from.stderr);
    t.is(readFileSync(join(out, 'a.txt'), 'utf8'), 'alpha\n', 'the directory took the new name');
    t.is(readFileSync(join(out, 'sub', 'b.txt'), 'utf8'), 'beta\n');
    const into = join(dir, 'existing');
    mkdirSync(into);
    await tsnetctl('-H', rt.host, 'cp', 'c:/data', into);
    t.is(readFileSync(join(into, 'data', 'a.txt'), 'utf8'), 'alpha\n', 'into an existing directory');

    const src = join(dir, 'src');
    mkdirSync(join(src, 'deep'), { recursive: true });
    writeFileSync(join(src, 'deep', 'f.txt'), 'from here\n');
    const to = await tsnetctl('-H', rt.host, 'cp', src, 'c:/data');
    t.is(to.code, 0, to.stderr);
    const files = byName(rt, 'c')?.files;
    t.is(
      files?.get('/data/src/deep/f.txt')?.toString(),
      'from here\n',
      'under its own name in an existing directory',
    );
    await tsnetctl('-H', rt.host, 'cp', join(src, 'deep', 'f.txt'), 'c:/etc/renamed.txt');
    t.is(files?.get('/etc/renamed.txt')?.toString(), 'from here\n', 'a new path: the copy takes its name');

    const piped = await tsnetctlWithInput('', ['-H', rt.host, 'cp', 'c:/etc/motd', '-']);
    t.is(piped.code, 0, piped.stderr);
    const extract = tar.extract();
    extract.end(piped.raw);
    const names: string[] = [];
    for await (const entry of extract) {
      names.push(entry.header.name);
      entry.resume();
    }
    t.deepEqual(names, ['motd']);
    const missing = await tsnetctl('-H', rt.host, 'cp', 'c:/nope', join(dir, 'x'));
    assertOneLineError(t, missing, /^Error response from daemon: Could not find the file \/nope/);
  });
});

test('network and volume verbs: create with IPAM flags, ls, inspect, rm', async (t) => {
  await withRuntime(async (rt) => {
    const created = await tsnetctl(
      '-H',
      rt.host,
      'network',
      'create',
      '-d',
      'bridge',
      '--subnet',
      '10.5.0.0/24',
      '--gateway',
      '10.5.0.1',
      '--ip-range',
      '10.5.0.128/25',
      '-o',
      'mtu=1400',
      '--label',
      'team=net',
      '--internal',
      'backend',
    );
    t.is(created.code, 0, created.stderr);
    t.regex(created.stdout, /^[0-9a-f]{64}\n$/);
    t.like(rt.networks.get('backend')?.request, {
      driver: 'bridge',
      pools: [{ subnet: '10.5.0.0/24', gateway: '10.5.0.1', ipRange: '10.5.0.128/25' }],
      options: { mtu: '1400' },
      labels: { team: 'net' },
      internal: true,
    });
    const badGateway = await tsnetctl(
      '-H',
      rt.host,
      'network',
      'create',
      '--subnet',
      '10.6.0.0/24',
      '--gateway',
      '10.7.0.1',
      'n2',
    );
    assertOneLineError(t, badGateway, /no matching subnet for gateway 10\.7\.0\.1/);
    const [ls, inspect, volume] = await Promise.all([
      tsnetctl('-H', rt.host, 'network', 'ls'),
      tsnetctl('-H', rt.host, 'network', 'inspect', 'backend'),
      tsnetctl('-H', rt.host, 'volume', 'create', 'data'),
    ]);
    t.regex(ls.stdout, /^NETWORK ID\s+NAME\s+DRIVER\s+SCOPE\n[0-9a-f]{12}\s+backend\s+bridge\s+local\n$/);
    t.like((JSON.parse(inspect.stdout) as object[])[0], { Name: 'backend' });
    t.is(volume.stdout, 'data\n');
    const vls = await tsnetctl('-H', rt.host, 'volume', 'ls');
    t.regex(vls.stdout, /^DRIVER\s+VOLUME NAME\nlocal\s+data\n$/);
    const rm = await tsnetctl('-H', rt.host, 'volume', 'rm', 'data', 'nosuch');
    t.is(rm.stdout, 'data\n');
    t.is(rm.code, 1);
    t.is((await tsnetctl('-H', rt.host, 'network', 'connect', '--alias', 'db', 'backend', 'c')).code, 0);
    t.true(rt.calls.includes('Connect backend c db'));
  });
});

test('agent not reachable through TSNET_HOST either: the socket is named', async (t) => {
  await withTempDir(async (dir) => {
    const socket = join(dir, 'gone.sock');
    const r = await outcome(TSNETCTL[0], [...TSNETCTL.slice(1), 'logs', 'x'], {
      ...process.env,
      TSNET_HOST: `unix://${socket}`,
    });
    assertOneLineError(t, r, new RegExp(socket.replaceAll('.', '\\.')));
  });
});
