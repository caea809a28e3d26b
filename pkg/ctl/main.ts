// tsnetctl's main: builds the command tree, parses process.argv, runs the command, and ends the process with
// its exit code. Every failure is one line on stderr with docker's exit code; never a stack trace.
import { requireNativeModule } from '../../native/libc.ts';
import { AgentClient } from '../api/client.ts';
import { offerAgentClient } from './commands/context.ts';
import { CommanderError, describeFailure } from './errors.ts';
import { tsnetctlProgram } from './program.ts';

/** Builds the command tree (nothing of the environment, argv or stdio is read); the result runs argv. */
export function prepareTsnetctl(): () => void {
  const { program, ctx } = tsnetctlProgram();
  return () => {
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
  };
}

/**
 * prepareTsnetctl for a warm tsnetctl of the agent at `apiSocket`, which has time before its client comes:
 * the native module is loaded and a connection to that agent is open and used once (a command for that agent
 * uses it), so the client waits for neither. Little beyond what the command would do anyway: every warm
 * tsnetctl costs its CPU, and a script's back-to-back calls have their replacements start on what they leave.
 */
export async function prepareWarmTsnetctl(apiSocket: string): Promise<() => void> {
  requireNativeModule();
  const run = prepareTsnetctl();
  const client = new AgentClient(apiSocket);
  if (await client.connected(CONNECT_TIMEOUT_MS)) {
    // one call through it: the call path compiled and the connection's HTTP/2 settings exchanged
    await client.version().catch(() => undefined);
    offerAgentClient(client);
  } else client.close(); // the command connects itself, and says what is wrong
  return run;
}

/** How long a warm tsnetctl tries to connect to its agent before it leaves that to the command. */
const CONNECT_TIMEOUT_MS = 5000;
