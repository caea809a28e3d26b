// How tsnetctl ends on an error: one line on stderr and docker's exit codes. Flag misuse is 125 (docker's
// FlagErrorFunc), a wrong argument count 1, a daemon-side error `Error response from daemon: ...` and 1, the
// agent unreachable one line naming the socket and 1. The operator commands keep their historic 2 for
// mistakes.
import { CommanderError } from 'commander';
import { AgentUnreachableError, ApiCallError, HostError } from '../api/client.ts';
import { UsageError } from '../cli/command-line.ts';

export const EXIT_MISUSE = 125;
export const EXIT_OPERATOR_MISUSE = 2;

/** A flag value the CLI refuses before calling the agent (docker exits 125 for these). */
export class FlagError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FlagError';
  }
}

/** A failure whose exit code its command chose: docker run, create and exec end 125 on a daemon's error. */
export class StatusError extends Error {
  constructor(
    readonly failure: unknown,
    readonly exitCode: number,
  ) {
    super(String((failure as Error)?.message ?? failure));
    this.name = 'StatusError';
  }
}

/** Runs `fn`; the agent's refusal, or no agent at all, ends the command with docker's 125. */
export async function daemonFailureIs125<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    // docker's 126/127 when the agent says the command could not run, else 125
    if (err instanceof ApiCallError) throw new StatusError(err, err.exitCode ?? EXIT_MISUSE);
    if (err instanceof AgentUnreachableError) throw new StatusError(err, EXIT_MISUSE);
    throw err;
  }
}

/** A command-line mistake commander found, with the command it concerns. */
export class CommandLineError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
    this.name = 'CommandLineError';
  }
}

interface CommandShape {
  name(): string;
  parent: CommandShape | null;
  registeredArguments: readonly { required: boolean; variadic: boolean }[];
}

function commandPath(cmd: CommandShape): string {
  const names: string[] = [];
  for (let c: CommandShape | null = cmd; c; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

function arityText(cmd: CommandShape): string {
  const args = cmd.registeredArguments;
  const required = args.filter((a) => a.required).length;
  const plural = (n: number) => `${n} argument${n === 1 ? '' : 's'}`;
  if (args.some((a) => a.variadic) || required < args.length) return `at least ${plural(required)}`;
  return `exactly ${plural(required)}`;
}

/** Commander's parse errors in docker's words and codes. */
export function commandLineError(
  cmd: CommandShape,
  err: CommanderError,
  operator: boolean,
): CommandLineError {
  const path = commandPath(cmd);
  const see = ` (see '${path} --help')`;
  const plain = err.message.replace(/^error: /, '');
  if (operator) return new CommandLineError(plain, EXIT_OPERATOR_MISUSE);
  switch (err.code) {
    case 'commander.unknownCommand': {
      const name = /'([^']*)'/.exec(plain)?.[1] ?? '';
      return new CommandLineError(
        `unknown command ${JSON.stringify(name)} (try --help)`,
        EXIT_OPERATOR_MISUSE,
      );
    }
    case 'commander.missingArgument':
    case 'commander.excessArguments':
      return new CommandLineError(`"${path}" requires ${arityText(cmd)}${see}`, 1);
    case 'commander.unknownOption': {
      const flag = /'([^']*)'/.exec(plain)?.[1] ?? plain;
      return new CommandLineError(`unknown flag: ${flag}${see}`, EXIT_MISUSE);
    }
    default:
      return new CommandLineError(`${plain}${see}`, EXIT_MISUSE);
  }
}

/** The line to print and the exit code for an error that ends tsnetctl. */
export function describeFailure(err: unknown): { line: string; exitCode: number } {
  // One line whatever the error: some (gRPC's) carry line breaks and trailing notes.
  const oneLine = (text: string) => text.replace(/\s*\n\s*/g, ' ').trim();
  if (err instanceof StatusError) return { line: describeFailure(err.failure).line, exitCode: err.exitCode };
  const message = oneLine(String((err as Error)?.message ?? err));
  if (err instanceof ApiCallError) return { line: `Error response from daemon: ${message}`, exitCode: 1 };
  if (err instanceof CommandLineError) return { line: `tsnetctl: ${message}`, exitCode: err.exitCode };
  if (err instanceof FlagError || err instanceof HostError)
    return { line: `tsnetctl: ${message}`, exitCode: EXIT_MISUSE };
  if (err instanceof UsageError) return { line: `tsnetctl: ${message}`, exitCode: EXIT_OPERATOR_MISUSE };
  if (err instanceof AgentUnreachableError) return { line: `tsnetctl: ${message}`, exitCode: 1 };
  return { line: `tsnetctl: ${message}`, exitCode: 1 };
}

export { CommanderError };
