// tsnetctl's main: builds the command tree, parses process.argv, runs the command to its exit code. Every
// failure is one line on stderr with docker's exit code; never a stack trace.
import { requireNativeModule } from '../../native/libc.ts';
import { AgentClient } from '../api/client.ts';
import { shareAgentClient } from './commands/context.ts';
import { CommanderError, describeFailure } from './errors.ts';
import { tsnetctlProgram } from './program.ts';
import type { WarmCommand } from './warm-client.ts';

/**
 * Builds the command tree (nothing of the environment, argv or stdio is read); the result runs process.argv
 * once and resolves to the exit code, a failure printed as one line (a warm tsnetctl serves the next command
 * with a new tree: commander keeps what it parsed).
 */
export function prepareTsnetctl(): WarmCommand {
  const { program, ctx } = tsnetctlProgram();
  return async () => {
    let code: number;
    try {
      await program.parseAsync(process.argv);
      code = typeof process.exitCode === 'number' ? process.exitCode : 0;
    } catch (err) {
      if (err instanceof CommanderError && (err.exitCode === 0 || err.code === 'commander.help')) code = 0;
      else {
        const { line, exitCode } = describeFailure(err);
        process.stderr.write(`${line}\n`);
        code = exitCode;
      }
    } finally {
      ctx.close();
      process.exitCode = undefined;
    }
    return code;
  };
}

/**
 * What a warm tsnetctl of the agent at `apiSocket` does before its first client comes: the native module is
 * loaded and a connection to that agent is open and used once (each command for that agent uses it, so none
 * waits to connect). Little beyond what a command would do anyway: every warm tsnetctl costs its CPU.
 */
export async function warmUpTsnetctl(apiSocket: string): Promise<void> {
  requireNativeModule();
  const client = new AgentClient(apiSocket);
  if (await client.connected(CONNECT_TIMEOUT_MS)) {
    // one call through it: the call path compiled and the connection's HTTP/2 settings exchanged
    await client.version().catch(() => undefined);
    shareAgentClient(client);
  } else client.close(); // each command connects itself, and says what is wrong
}

/** How long a warm tsnetctl tries to connect to its agent before it leaves that to the commands. */
const CONNECT_TIMEOUT_MS = 5000;
