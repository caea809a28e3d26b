// `tsnetctl completion bash`: a bash completion script made from the command tree commander holds.
import { Command } from 'commander';
import type { CliContext } from './commands/context.ts';
import { FlagError } from './errors.ts';

function words(command: Command): string[] {
  return [
    ...command.commands.flatMap((c) => [c.name(), ...c.aliases()]),
    ...command.options.flatMap((o) => [o.long, o.short].filter((f): f is string => Boolean(f))),
  ];
}

export function bashCompletion(program: Command): string {
  const cases = program.commands
    .filter((c) => c.commands.length > 0)
    .map((c) => {
      const subs = c.commands.map((s) => `      ${s.name()}) opts="${words(s).join(' ')}" ;;`).join('\n');
      return `    ${c.name()})\n      case "\${COMP_WORDS[2]}" in\n${subs}\n      *) opts="${words(c).join(' ')}" ;;\n      esac ;;`;
    })
    .join('\n');
  const leaves = program.commands
    .filter((c) => c.commands.length === 0)
    .map((c) => `    ${c.name()}) opts="${words(c).join(' ')}" ;;`)
    .join('\n');
  return `# bash completion for tsnetctl: source <(tsnetctl completion bash)
_tsnetctl() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" opts
  if [ "$COMP_CWORD" -eq 1 ]; then
    opts="${words(program).join(' ')}"
  else
    case "\${COMP_WORDS[1]}" in
${cases}
${leaves}
    *) opts="" ;;
    esac
  fi
  COMPREPLY=($(compgen -W "$opts" -- "$cur"))
}
complete -o default -F _tsnetctl tsnetctl
`;
}

export function completionCommand(program: Command, ctx: CliContext): Command {
  return new Command('completion')
    .description('Print a shell completion script (bash)')
    .argument('<shell>', 'bash')
    .action((shell: string) => {
      if (shell !== 'bash')
        throw new FlagError(`completion: ${JSON.stringify(shell)} is not supported (bash)`);
      ctx.stdout.write(bashCompletion(program));
    });
}
