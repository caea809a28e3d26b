// tsnetctl compose: multi-container applications from compose files. `config` needs no agent: it loads,
// validates and prints the normalized project; the verbs that change things apply a plan (pkg/compose/plan.ts)
// through the agent's API.
import { Command } from 'commander';
import { projectConfigYaml } from '../../compose/config-output.ts';
import { type LoadedProject, loadProject } from '../../compose/load.ts';
import { type CliContext, collect } from './context.ts';

interface ComposeFlags {
  file: string[];
  projectName?: string;
  projectDirectory?: string;
}

export function composeCommand(ctx: CliContext): Command {
  const compose = new Command('compose')
    .description('Define and run multi-container applications')
    .option('-f, --file <FILE>', 'Compose configuration file (repeatable)', collect, [])
    .option('-p, --project-name <NAME>', 'Project name')
    .option('--project-directory <DIR>', 'Project directory (default: the first file’s directory)');
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
  return compose;
}
