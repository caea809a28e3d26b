// tsnetctl compose: multi-container applications from compose files. `config` needs no agent: it loads,
// validates and prints the normalized project; the verbs that change things compute a plan
// (pkg/compose/plan.ts) from what the agent has and apply it (pkg/compose/apply.ts), printing Compose's
// progress lines on stderr.
import { Command } from 'commander';
import type { ContainerSummary__Output } from '../../api/generated/tsnet/v1/ContainerSummary.ts';
import { applyDown, applyUp, existingResources, type Progress } from '../../compose/apply.ts';
import { projectConfigYaml } from '../../compose/config-output.ts';
import { type LoadedProject, loadProject } from '../../compose/load.ts';
import type { ComposeProject } from '../../compose/model.ts';
import { dependencyOrder, planDown, planUp } from '../../compose/plan.ts';
import { LABEL, serviceImage } from '../../compose/to-create.ts';
import { byCodeUnits } from '../../text/order.ts';
import { proxySignals, startSession, terminalSize } from '../attach-session.ts';
import { daemonFailureIs125 } from '../errors.ts';
import { formatTable } from '../format/table.ts';
import { showProgress } from '../progress.ts';
import { buildServices } from './compose-build.ts';
import { printPrefixedLogs } from './compose-logs.ts';
import { type CliContext, collect } from './context.ts';
import { portsText } from './ps.ts';

interface ComposeFlags {
  file: string[];
  projectName?: string;
  projectDirectory?: string;
}

/** Compose's non-terminal progress line: ` Container proj-web-1  Started`. */
function progressTo(ctx: CliContext): Progress {
  return (kind, name, status) => ctx.stderr.write(` ${kind} ${name}  ${status}\n`);
}

/** The project's service containers (one-offs excluded), in dependency order. */
async function serviceContainers(
  ctx: CliContext,
  project: ComposeProject,
  services: readonly string[] = [],
): Promise<(ContainerSummary__Output & { service: string; name: string })[]> {
  for (const s of services) if (!(s in project.services)) throw new Error(`no such service: ${s}`);
  const { containers } = await ctx
    .agent()
    .containers({ all: true, filters: [`label=${LABEL.project}=${project.name}`] });
  const order = dependencyOrder(project.services);
  const rank = (s: string) => (order.includes(s) ? order.indexOf(s) : order.length);
  return containers
    .filter((c) => c.labels[LABEL.oneoff] !== 'True' && c.labels[LABEL.service])
    .map((c) => ({
      ...c,
      service: c.labels[LABEL.service] as string,
      name: (c.names[0] ?? c.id).replace(/^\//, ''),
    }))
    .filter((c) => services.length === 0 || services.includes(c.service))
    .sort((a, b) => rank(a.service) - rank(b.service) || byCodeUnits(a.name, b.name));
}

export function composeCommand(ctx: CliContext): Command {
  const compose = new Command('compose')
    .description('Define and run multi-container applications')
    .option('-f, --file <FILE>', 'Compose configuration file (repeatable)', collect, [])
    .option('-p, --project-name <NAME>', 'Project name')
    .option('--project-directory <DIR>', 'Project directory (default: the first file’s directory)')
    .enablePositionalOptions();
  const load = (): LoadedProject => {
    const flags = compose.opts<ComposeFlags>();
    const loaded = loadProject({
      files: flags.file,
      ...(flags.projectName !== undefined && { projectName: flags.projectName }),
      ...(flags.projectDirectory !== undefined && { projectDirectory: flags.projectDirectory }),
    });
    for (const w of loaded.warnings) ctx.stderr.write(`WARN ${w}\n`);
    return loaded;
  };
  const warn = (warnings: readonly string[]) => {
    for (const w of warnings) ctx.stderr.write(`WARN ${w}\n`);
  };

  compose.addCommand(
    new Command('config')
      .description('Parse, resolve and render the compose file in canonical format')
      .option('-q, --quiet', 'Only validate the configuration, print nothing')
      .option('--services', 'Print the service names, one per line')
      .option('--volumes', 'Print the volume names, one per line')
      .action((opts: { quiet?: boolean; services?: boolean; volumes?: boolean }) => {
        const { project } = load();
        if (opts.quiet) return;
        if (opts.services)
          ctx.stdout.write(
            Object.keys(project.services)
              .map((s) => `${s}\n`)
              .join(''),
          );
        else if (opts.volumes)
          ctx.stdout.write(
            Object.keys(project.volumes)
              .map((v) => `${v}\n`)
              .join(''),
          );
        else ctx.stdout.write(projectConfigYaml(project));
      }),
  );

  compose.addCommand(
    new Command('up')
      .description('Create and start containers')
      .argument('[SERVICE...]')
      .option('-d, --detach', 'Detached mode: run containers in the background')
      .option('--build', 'Build images before starting containers')
      .option('--remove-orphans', 'Remove containers for services not defined in the Compose file')
      .option('--force-recreate', 'Recreate containers even if their configuration has not changed')
      .option('--no-recreate', 'If containers already exist, do not recreate them')
      .option('--no-deps', "Don't start linked services")
      .action(
        async (
          services: string[],
          o: {
            detach?: boolean;
            build?: boolean;
            removeOrphans?: boolean;
            forceRecreate?: boolean;
            recreate: boolean;
            deps: boolean;
          },
        ) => {
          const { project } = load();
          // Compose builds what is missing anyway; --build rebuilds every service that has a build section.
          const images = await buildServices(ctx, project, {
            services,
            onlyMissing: o.build !== true,
            noCache: false,
            pull: false,
            quiet: false,
          });
          const agent = ctx.agent();
          const since = BigInt(Date.now()) * 1_000_000n;
          const plan = planUp(project, await existingResources(agent, project), {
            services,
            removeOrphans: o.removeOrphans === true,
            forceRecreate: o.forceRecreate === true,
            noRecreate: !o.recreate,
            noDeps: !o.deps,
            images,
          });
          warn(plan.warnings);
          const { containers } = await applyUp(agent, project, plan, progressTo(ctx));
          if (o.detach) return;
          await attachUntilInterrupted(ctx, project, containers, since);
        },
      ),
  );

  compose.addCommand(
    new Command('down')
      .description('Stop and remove containers, networks')
      .option('-v, --volumes', 'Remove named volumes declared in the "volumes" section and anonymous volumes')
      .option('--remove-orphans', 'Remove containers for services not defined in the Compose file')
      .action(async (o: { volumes?: boolean; removeOrphans?: boolean }) => {
        const { project } = load();
        const agent = ctx.agent();
        const plan = planDown(project, await existingResources(agent, project), {
          volumes: o.volumes === true,
          removeOrphans: o.removeOrphans === true,
        });
        warn(plan.warnings);
        await applyDown(agent, plan, progressTo(ctx));
      }),
  );

  compose.addCommand(
    new Command('ps')
      .description('List containers')
      .argument('[SERVICE...]')
      .option('-a, --all', 'Show all stopped containers')
      .option('-q, --quiet', 'Only display IDs')
      .option('--services', 'Display services')
      .action(async (services: string[], o: { all?: boolean; quiet?: boolean; services?: boolean }) => {
        const { project } = load();
        const rows = (await serviceContainers(ctx, project, services)).filter(
          (c) => o.all || c.state === 'running' || c.state === 'restarting' || c.state === 'paused',
        );
        if (o.quiet) return void ctx.stdout.write(rows.map((c) => `${c.id}\n`).join(''));
        if (o.services)
          return void ctx.stdout.write([...new Set(rows.map((c) => `${c.service}\n`))].join(''));
        const table = [
          ['NAME', 'IMAGE', 'COMMAND', 'SERVICE', 'STATUS', 'PORTS'],
          ...rows.map((c) => [
            c.name,
            c.image,
            JSON.stringify(c.command),
            c.service,
            c.status,
            portsText(c.ports),
          ]),
        ];
        ctx.stdout.write(`${formatTable(table)}\n`);
      }),
  );

  compose.addCommand(
    new Command('logs')
      .description('View output from containers')
      .argument('[SERVICE...]')
      .option('-f, --follow', 'Follow log output')
      .action(async (services: string[], o: { follow?: boolean }) => {
        const { project } = load();
        const containers = await serviceContainers(ctx, project, services);
        const stop = new AbortController();
        const unproxy = proxySignals(() => stop.abort());
        try {
          await printPrefixedLogs(ctx, ctx.agent(), containers, {
            follow: o.follow === true,
            signal: stop.signal,
          });
        } finally {
          unproxy();
        }
      }),
  );

  compose.addCommand(
    new Command('pull')
      .description('Pull service images')
      .argument('[SERVICE...]')
      .option('-q, --quiet', 'Pull without printing progress information')
      .action(async (services: string[], o: { quiet?: boolean }) => {
        const { project } = load();
        for (const s of services) if (!(s in project.services)) throw new Error(`no such service: ${s}`);
        const wanted = Object.values(project.services).filter(
          (s) => (services.length === 0 || services.includes(s.name)) && s.image !== undefined,
        );
        for (const s of wanted) {
          const image = serviceImage(project, s);
          if (!o.quiet) ctx.stderr.write(` ${s.name} Pulling\n`);
          await showProgress(ctx.images().pull(image, '', false), undefined, false);
          if (!o.quiet) ctx.stderr.write(` ${s.name} Pulled\n`);
        }
      }),
  );

  const lifecycle = (
    verb: 'start' | 'stop' | 'restart',
    description: string,
    act: (id: string) => Promise<unknown>,
    [doing, done]: [string, string],
  ) =>
    new Command(verb)
      .description(description)
      .argument('[SERVICE...]')
      .action(async (services: string[]) => {
        const { project } = load();
        const containers = await serviceContainers(ctx, project, services);
        if (containers.length === 0) throw new Error(`no container found for project "${project.name}"`);
        // stop in reverse dependency order: nothing loses a dependency while it runs
        if (verb === 'stop') containers.reverse();
        const progress = progressTo(ctx);
        for (const c of containers) {
          progress('Container', c.name, doing);
          await act(c.id);
          progress('Container', c.name, done);
        }
      });
  compose.addCommand(
    lifecycle('start', 'Start services', (id) => ctx.agent().startContainer(id), ['Starting', 'Started']),
  );
  compose.addCommand(
    lifecycle('stop', 'Stop services', (id) => ctx.agent().stopContainer(id), ['Stopping', 'Stopped']),
  );
  compose.addCommand(
    lifecycle('restart', 'Restart service containers', (id) => ctx.agent().restartContainer(id), [
      'Restarting',
      'Started',
    ]),
  );

  compose.addCommand(
    new Command('exec')
      .description('Execute a command in a running container')
      .argument('<SERVICE>')
      .argument('<COMMAND...>')
      .option('-T, --no-TTY', 'Disable pseudo-TTY allocation (default: auto-detected)')
      .option('-e, --env <list>', 'Set environment variables', collect, [])
      .option('-u, --user <string>', 'Run the command as this user')
      .option('-w, --workdir <string>', 'Path to workdir directory for this command')
      .option('--index <int>', 'Index of the container if service has multiple replicas', '1')
      .passThroughOptions()
      .action(
        async (
          service: string,
          cmd: string[],
          o: { TTY: boolean; env: string[]; user?: string; workdir?: string; index: string },
        ) => {
          const { project } = load();
          if (!(service in project.services)) throw new Error(`no such service: ${service}`);
          const name = `${project.name}-${service}-${o.index}`;
          const container = (await serviceContainers(ctx, project, [service])).find((c) => c.name === name);
          if (container?.state !== 'running') throw new Error(`service "${service}" is not running`);
          const tty = o.TTY && ctx.stdin.isTTY === true;
          process.exitCode = await daemonFailureIs125(async () => {
            const agent = ctx.agent();
            const call = agent.exec();
            call.write({
              start: {
                container: container.id,
                cmd,
                env: o.env,
                user: o.user ?? '',
                workingDir: o.workdir ?? '',
                tty,
                stdin: tty,
                detach: false,
                privileged: false,
                ...(tty ? { size: terminalSize(ctx) ?? null } : {}),
              },
            });
            return (await startSession(call, ctx, agent.host, { tty, stdin: tty }).done).exitCode ?? 0;
          });
        },
      ),
  );

  compose.addCommand(
    new Command('build')
      .description('Build or rebuild services')
      .argument('[SERVICE...]')
      .option('--no-cache', 'Do not use cache when building the image')
      .option('--pull', 'Always attempt to pull a newer version of the image')
      .option('-q, --quiet', "Don't print anything to STDOUT")
      .action(async (services: string[], o: { cache: boolean; pull?: boolean; quiet?: boolean }) => {
        const { project } = load();
        await buildServices(ctx, project, {
          services,
          onlyMissing: false,
          noCache: !o.cache,
          pull: o.pull === true,
          quiet: o.quiet === true,
        });
      }),
  );
  return compose;
}

/**
 * `up` without -d: the containers' logs, prefixed, until they have all stopped or Ctrl-C; then, as
 * Compose does, the containers are stopped.
 */
async function attachUntilInterrupted(
  ctx: CliContext,
  project: ComposeProject,
  ids: ReadonlyMap<string, string>,
  since: bigint,
): Promise<void> {
  const agent = ctx.agent();
  const containers = [...ids].map(([service, id]) => ({ id, name: `${project.name}-${service}-1` }));
  const interrupted = new AbortController();
  const unproxy = proxySignals(() => {
    if (!interrupted.signal.aborted)
      ctx.stderr.write('Gracefully stopping... (press Ctrl+C again to force)\n');
    interrupted.abort();
  });
  try {
    await printPrefixedLogs(ctx, agent, containers, {
      follow: true,
      sinceUnixNano: since,
      signal: interrupted.signal,
    });
    if (!interrupted.signal.aborted) return;
    const progress = progressTo(ctx);
    for (const c of [...containers].reverse()) {
      progress('Container', c.name, 'Stopping');
      await agent.stopContainer(c.id);
      progress('Container', c.name, 'Stopped');
    }
  } finally {
    unproxy();
  }
}
