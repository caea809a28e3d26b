// tsnetctl login / logout: registry credentials, kept by the agent (as Docker's config.json auths).
import { createInterface } from 'node:readline/promises';
import { Writable } from 'node:stream';
import { Command } from 'commander';
import { FlagError } from '../errors.ts';
import type { CliContext } from './context.ts';

interface LoginOptions {
  username?: string;
  password?: string;
  passwordStdin: boolean;
}

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of stream as AsyncIterable<Buffer>) chunks.push(c);
  return Buffer.concat(chunks).toString('utf8');
}

/** Asks on the terminal; `hidden` echoes nothing (a password). */
async function prompt(ctx: CliContext, question: string, hidden: boolean): Promise<string> {
  let muted = false;
  const output = new Writable({
    write(chunk: Buffer, _encoding, done) {
      if (!muted) ctx.stdout.write(chunk);
      done();
    },
  });
  const rl = createInterface({ input: ctx.stdin, output, terminal: true });
  try {
    const answer = rl.question(question);
    muted = hidden;
    return (await answer).trim();
  } finally {
    rl.close();
    if (hidden) ctx.stdout.write('\n');
  }
}

export function loginCommand(ctx: CliContext, name = 'login'): Command {
  return new Command(name)
    .description('Log in to a registry (default docker.io)')
    .argument('[SERVER]')
    .option('-u, --username <string>', 'Username')
    .option('-p, --password <string>', 'Password')
    .option('--password-stdin', 'Take the password from stdin', false)
    .action(async (server: string | undefined, options: LoginOptions) => {
      if (options.password !== undefined && options.passwordStdin)
        throw new FlagError('--password and --password-stdin are mutually exclusive');
      if (options.passwordStdin && !options.username)
        throw new FlagError('Must provide --username with --password-stdin');
      let { username, password } = options;
      if (password !== undefined)
        ctx.stderr.write('WARNING! Using --password via the CLI is insecure. Use --password-stdin.\n');
      if (options.passwordStdin) password = (await readAll(ctx.stdin)).replace(/\r?\n$/, '');
      if (username === undefined || password === undefined) {
        if (!ctx.stdin.isTTY) throw new Error('Cannot perform an interactive login from a non TTY device');
        username ??= await prompt(ctx, 'Username: ', false);
        password ??= await prompt(ctx, 'Password: ', true);
      }
      if (!username) throw new Error('Error: Non-null Username Required');
      const status = await ctx.images().login(server ?? '', username, password);
      ctx.stdout.write(`${status || 'Login Succeeded'}\n`);
    });
}

export function logoutCommand(ctx: CliContext, name = 'logout'): Command {
  return new Command(name)
    .description('Log out from a registry (default docker.io)')
    .argument('[SERVER]')
    .action(async (server: string | undefined) => {
      await ctx.images().logout(server ?? '');
      ctx.stdout.write(`Removing login credentials for ${server ?? 'docker.io'}\n`);
    });
}
