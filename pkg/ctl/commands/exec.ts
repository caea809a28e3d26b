// tsnetctl exec and attach: a process in a running container (or the container's own), driven from this
// terminal; tsnetctl ends with that process's exit code. exec's daemon-side refusals end 125, as the issue
// asks of a daemon error; 126/127 (cannot run, not found) come from the agent's exit frame.
import { Command } from 'commander';
import { proxySignals, startSession, terminalSize } from '../attach-session.ts';
import { daemonFailureIs125, FlagError } from '../errors.ts';
import { type CliContext, collect } from './context.ts';

interface ExecOptions {
  interactive?: boolean;
  tty?: boolean;
  detach?: boolean;
  env: string[];
  user?: string;
  workdir?: string;
  privileged?: boolean;
}

/** `-e KEY` takes tsnetctl's own value, as docker's does; unset, it is dropped. */
function execEnv(entries: readonly string[], env: NodeJS.ProcessEnv = process.env): string[] {
  return entries.flatMap((e) => {
    if (e.startsWith('=')) throw new FlagError(`invalid environment variable: ${e}`);
    if (e.includes('=')) return [e];
    const value = env[e];
    return value === undefined ? [] : [`${e}=${value}`];
  });
}

export function execCommand(ctx: CliContext, name = 'exec'): Command {
  return new Command(name)
    .description('Execute a command in a running container')
    .usage('[OPTIONS] CONTAINER COMMAND [ARG...]')
    .argument('<CONTAINER>')
    .argument('<COMMAND...>')
    .option('-d, --detach', 'Detached mode: run command in the background')
    .option('-e, --env <list>', 'Set environment variables', collect, [])
    .option('-i, --interactive', 'Keep STDIN open even if not attached')
    .option('--privileged', 'Give extended privileges to the command')
    .option('-t, --tty', 'Allocate a pseudo-TTY')
    .option('-u, --user <string>', 'Username or UID (format: "<name|uid>[:<group|gid>]")')
    .option('-w, --workdir <string>', 'Working directory inside the container')
    .passThroughOptions()
    .action(async (container: string, cmd: string[], o: ExecOptions) => {
      const env = execEnv(o.env);
      const tty = o.tty === true;
      const stdin = o.interactive === true && !o.detach;
      process.exitCode = await daemonFailureIs125(async () => {
        const agent = ctx.agent();
        const call = agent.exec();
        call.write({
          start: {
            container,
            cmd,
            env,
            user: o.user ?? '',
            workingDir: o.workdir ?? '',
            tty,
            stdin,
            detach: o.detach === true,
            privileged: o.privileged === true,
            ...(tty ? { size: terminalSize(ctx) ?? null } : {}),
          },
        });
        const result = await startSession(call, ctx, agent.host, { tty, stdin }).done;
        return o.detach ? 0 : (result.exitCode ?? 0);
      });
    });
}

/** What docker's `attach` says of a container it will not attach to (the agent would wait for its start). */
const NOT_ATTACHABLE: Record<string, string> = {
  created: 'You cannot attach to a stopped container, start it first',
  exited: 'You cannot attach to a stopped container, start it first',
  paused: 'You cannot attach to a paused container, unpause it first',
  restarting: 'You cannot attach to a restarting container, wait until it is running',
};

/** The container's ID, whether it has a terminal and an open stdin, and its status. */
async function createdWith(
  ctx: CliContext,
  container: string,
): Promise<{ id: string; tty: boolean; openStdin: boolean; status: string }> {
  const inspected = await ctx.agent().inspectContainer(container);
  const config = (inspected.Config ?? {}) as { Tty?: boolean; OpenStdin?: boolean };
  const state = (inspected.State ?? {}) as { Status?: string };
  return {
    id: String(inspected.Id ?? container),
    tty: config.Tty === true,
    openStdin: config.OpenStdin === true,
    status: state.Status ?? '',
  };
}

/**
 * Starts a container `run` created; when the start is refused (a taken port, a command that cannot run) the
 * container goes too, so that a failed run leaves nothing behind.
 */
export async function startOrRemove(ctx: CliContext, id: string): Promise<{ warnings: string[] }> {
  const agent = ctx.agent();
  try {
    return await agent.startContainer(id);
  } catch (err) {
    await agent.removeContainer({ container: id, force: true, volumes: true }).catch(() => undefined);
    throw err;
  }
}

/**
 * Attaches to a container (its terminal and stdin as it was created with), optionally starting it once
 * attached (start -a): the container's exit code, when it exited while attached.
 */
export async function attachContainer(
  ctx: CliContext,
  container: string,
  o: {
    stdin: boolean;
    sigProxy: boolean;
    detachKeys?: string;
    start?: boolean;
    /** a start that fails removes the container (run's: it made the container for this run only) */
    removeIfStartFails?: boolean;
    /** replay what it wrote before the attach (a new container's whole output) */
    logs?: boolean;
    /** what run already knows: no inspect needed */
    created?: { id: string; tty: boolean; openStdin: boolean; status?: string };
  },
): Promise<number | undefined> {
  const agent = ctx.agent();
  const { id, tty, openStdin, status } = o.created ?? (await createdWith(ctx, container));
  const refusal = o.start ? undefined : NOT_ATTACHABLE[status ?? ''];
  if (refusal) throw new Error(refusal);
  const stdin = o.stdin && openStdin;
  const call = agent.attach();
  call.write({
    start: {
      container: id,
      stdin,
      stdout: true,
      stderr: true,
      detachKeys: o.detachKeys ?? '',
      logs: o.logs === true,
      ...(tty ? { size: terminalSize(ctx) ?? null } : {}),
    },
  });
  const session = startSession(call, ctx, agent.host, { tty, stdin });
  const unproxy =
    tty || !o.sigProxy
      ? () => {}
      : proxySignals((signal) => void agent.killContainer({ container: id, signal }).catch(() => {}));
  try {
    if (o.start) {
      await session.attached;
      const started = await (o.removeIfStartFails ? startOrRemove(ctx, id) : agent.startContainer(id));
      for (const w of started.warnings) ctx.stderr.write(`WARNING: ${w}\n`);
    }
    const result = await session.done;
    return result.exitCode ?? (o.start ? (await agent.waitContainer(id)).exitCode : undefined);
  } finally {
    unproxy();
  }
}

export function attachCommand(ctx: CliContext, name = 'attach'): Command {
  return new Command(name)
    .description('Attach local standard input, output, and error streams to a running container')
    .argument('<CONTAINER>')
    .option('--no-stdin', 'Do not attach STDIN')
    .option('--sig-proxy [bool]', 'Proxy all received signals to the process', (v) => v !== 'false', true)
    .option('--detach-keys <string>', 'Override the key sequence for detaching a container')
    .action(async (container: string, o: { stdin: boolean; sigProxy: boolean; detachKeys?: string }) => {
      const exitCode = await attachContainer(ctx, container, o);
      if (exitCode !== undefined) process.exitCode = exitCode;
    });
}
