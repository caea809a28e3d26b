// tsnetctl: the agent's client (docker's image commands over its API) and the operator's view of the cluster.
// Every failure is one line on stderr with docker's exit code; never a stack trace.
import { CommanderError, describeFailure } from '../../pkg/ctl/errors.ts';
import { tsnetctlProgram } from '../../pkg/ctl/program.ts';

const { program, ctx } = tsnetctlProgram();

program.parseAsync(process.argv).then(
  () => {
    ctx.close();
    process.exit(process.exitCode ?? 0);
  },
  (err: unknown) => {
    ctx.close();
    if (err instanceof CommanderError && (err.exitCode === 0 || err.code === 'commander.help'))
      process.exit(0);
    const { line, exitCode } = describeFailure(err);
    process.stderr.write(`${line}\n`);
    process.exit(exitCode);
  },
);
