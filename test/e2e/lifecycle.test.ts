// The lifecycle verbs end to end through tsnetctl against a real agent (test/ctl/containers.test.ts drives
// them against a fake runtime, test/agent/containers.test.ts through the raw API): what a user sees of
// pause/unpause, restart -t, rename, wait, top, stats --no-stream, port, cp both ways, export, events
// --filter and container prune, checked against the container itself (its processes, its files).
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { pollUntil } from '../../pkg/cluster/exec.ts';
import { whyContainersCannotRun } from '../helpers/container.ts';
import { type Engine, TEST_IMAGE, withEngine } from '../helpers/engine.ts';

const skip = whyContainersCannotRun({ conmon: true });
const e2e = skip ? test.skip : test.serial;
if (skip) test.skip(`tsnetctl lifecycle end to end (${skip})`, () => undefined);

interface State {
  Status: string;
  Running: boolean;
  Paused: boolean;
  Pid: number;
  StartedAt: string;
}

async function stateOf(e: Engine, container: string): Promise<State> {
  return (JSON.parse(await e.ok('inspect', container)) as [{ State: State }])[0].State;
}

const statusColumn = async (e: Engine, name: string): Promise<string> =>
  (await e.ok('ps', '-a', '--filter', `name=^${name}$`, '--format', '{{.Status}}')).trim();

e2e('pause, unpause, restart -t, rename and wait as the user sees them', async (t) => {
  await withEngine(t, async (e) => {
    await e.ok('run', '-d', '--name', 'lc', '--network', 'none', TEST_IMAGE, 'busybox', 'sleep', '1000');
    const before = await stateOf(e, 'lc');

    t.is(await e.ok('pause', 'lc'), 'lc\n');
    t.like(await stateOf(e, 'lc'), { Status: 'paused', Paused: true, Running: true });
    t.regex(await statusColumn(e, 'lc'), /^Up .+ \(Paused\)$/);
    // the freezer says so too, not only the record
    const id = (await e.ok('inspect', '--format', '{{.Id}}', 'lc')).trim();
    t.is(readFileSync(`/sys/fs/cgroup/freezer/tsnet/${id}/freezer.state`, 'utf8').trim(), 'FROZEN');
    t.is(await e.ok('unpause', 'lc'), 'lc\n');
    t.like(await stateOf(e, 'lc'), { Status: 'running', Paused: false });
    t.regex(await statusColumn(e, 'lc'), /^Up /);

    // sleep ignores SIGTERM as PID 1: restart -t 1 kills it after a second and runs it again
    t.is(await e.ok('restart', '-t', '1', 'lc'), 'lc\n');
    const after = await stateOf(e, 'lc');
    t.true(after.Running);
    t.not(after.Pid, before.Pid, 'a new process');
    t.not(after.StartedAt, before.StartedAt);

    t.is(await e.ok('rename', 'lc', 'renamed'), '');
    t.is((await e.ok('ps', '--format', '{{.Names}}')).trim(), 'renamed');
    const old = await e.ctl('inspect', 'lc');
    t.is(old.code, 1);
    t.regex(old.stderr, /No such (container|object): lc/);

    const waiting = e.ctl('wait', 'renamed');
    // PID 1 gets no signal it has no handler for, but SIGKILL: 128 + 9
    await e.ok('kill', 'renamed');
    const waited = await waiting;
    t.is(waited.code, 0, waited.stderr);
    t.is(waited.stdout, '137\n');
    t.regex(await statusColumn(e, 'renamed'), /^Exited \(137\) /);
  });
});

e2e('top, stats --no-stream, port, cp both ways, export, events --filter, container prune', async (t) => {
  await withEngine(t, async (e) => {
    const since = (Date.now() / 1000).toFixed(3);
    const events = spawn(
      e.argv[0]!,
      [...e.argv.slice(1), 'events', '--since', since, '--filter', 'container=web', '--filter', 'event=die'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let eventLines = '';
    events.stdout.setEncoding('utf8').on('data', (s: string) => {
      eventLines += s;
    });
    try {
      await e.ok('run', '-d', '--name', 'other', '--network', 'none', TEST_IMAGE, 'busybox', 'true');
      const id = (
        await e.ok(
          'run',
          '-d',
          '--name',
          'web',
          '-p',
          '127.0.0.1:18080:80',
          TEST_IMAGE,
          'busybox',
          'sleep',
          '1000',
        )
      ).trim();
      const pid = (await stateOf(e, 'web')).Pid;

      const top = (await e.ok('top', 'web')).split('\n').filter(Boolean);
      t.regex(top[0] ?? '', /^UID\s+PID\s+PPID\s+C\s+STIME\s+TTY\s+TIME\s+CMD$/);
      t.true(
        top.some((l) => l.split(/\s+/)[1] === String(pid) && l.endsWith('busybox sleep 1000')),
        top.join('\n'),
      );

      const stats = (await e.ok('stats', '--no-stream', 'web')).split('\n');
      t.regex(stats[0] ?? '', /^CONTAINER ID\s+NAME\s+CPU %\s+MEM USAGE \/ LIMIT\s+MEM %\s+NET I\/O/);
      t.regex(
        stats[1] ?? '',
        new RegExp(`^${id.slice(0, 12)}\\s+web\\s+\\d+\\.\\d\\d%\\s+[\\d.]+[KMG]?i?B / `),
      );
      t.regex(stats[1] ?? '', /\s1$/, 'one process');

      t.is(await e.ok('port', 'web'), '80/tcp -> 127.0.0.1:18080\n');
      t.is(await e.ok('port', 'web', '80'), '127.0.0.1:18080\n');
      const noPort = await e.ctl('port', 'web', '81');
      t.is(noPort.code, 1);
      t.is(noPort.stderr, "tsnetctl: No public port '81/tcp' published for web\n");

      // cp in: a local directory lands in the container, as its processes see it
      const local = join(e.dir, 'local');
      mkdirSync(join(local, 'sub'), { recursive: true });
      writeFileSync(join(local, 'sub', 'note.txt'), 'from the host\n');
      await e.ok('cp', local, 'web:/in');
      t.is(await e.ok('exec', 'web', 'busybox', 'cat', '/in/sub/note.txt'), 'from the host\n');
      // cp out: a file the container wrote
      await e.ok('exec', 'web', 'sh', '-c', 'echo from the container > /out.txt');
      await e.ok('cp', 'web:/out.txt', join(e.dir, 'out.txt'));
      t.is(readFileSync(join(e.dir, 'out.txt'), 'utf8'), 'from the container\n');

      // export | tar t: the whole filesystem, with what was copied in
      await e.ok('export', '-o', join(e.dir, 'web.tar'), 'web');
      const listed = execFileSync('tar', ['tf', join(e.dir, 'web.tar')], { encoding: 'utf8' }).split('\n');
      t.true(listed.includes('bin/busybox'), 'the image content');
      t.true(listed.includes('in/sub/note.txt'), 'what was copied in');

      // its veth's host end, by the index eth0 names as its peer: gone with the container's namespace
      const hostIndex = Number(
        (await e.ok('exec', 'web', 'busybox', 'cat', '/sys/class/net/eth0/iflink')).trim(),
      );
      const nodeLinks = () => {
        const out = execFileSync('nsenter', [
          `--net=/proc/${e.agent.child.pid}/ns/net`,
          'ip',
          '-j',
          'link',
          'show',
        ]);
        return (JSON.parse(out.toString('utf8')) as { ifindex: number }[]).map((l) => l.ifindex);
      };
      t.true(nodeLinks().includes(hostIndex), "web's host veth is on the node");

      await e.ok('rm', '-f', 'web');
      await pollUntil(
        "web's host veth gone",
        async () => (nodeLinks().includes(hostIndex) ? undefined : true),
        {
          timeoutMs: 30_000,
        },
      );
      await pollUntil('the die event of web', async () => (eventLines.includes(' die ') ? true : undefined), {
        timeoutMs: 30_000,
      });
      const lines = eventLines.trim().split('\n');
      t.is(lines.length, 1, eventLines);
      t.regex(lines[0] ?? '', new RegExp(`^\\S+Z container die ${id} \\(.*name=web`));

      // prune: only the stopped one goes
      await e.ok('run', '-d', '--name', 'keep', '--network', 'none', TEST_IMAGE, 'busybox', 'sleep', '1000');
      await e.ok('wait', 'other');
      const otherId = (await e.ok('inspect', '--format', '{{.Id}}', 'other')).trim();
      const pruned = await e.ok('container', 'prune', '-f');
      t.regex(pruned, new RegExp(`^Deleted Containers:\\n${otherId}\\n\\nTotal reclaimed space: `));
      t.is((await e.ok('ps', '-a', '--format', '{{.Names}}')).trim(), 'keep');
    } finally {
      events.kill('SIGTERM');
      await once(events, 'close');
    }
  });
});
