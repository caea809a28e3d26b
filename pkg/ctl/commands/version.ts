// tsnetctl version: client and server sections, as `docker version` prints them.
import { Command } from 'commander';
import packageJson from '../../../package.json' with { type: 'json' };
import { API_VERSION } from '../../api/proto.ts';
import { dockerArch } from '../../api/system.ts';
import { templateFormatter } from '../format/template.ts';
import type { CliContext } from './context.ts';

export const CLIENT_VERSION = packageJson.version;

interface VersionView {
  Client: { Version: string; APIVersion: string; NodeVersion: string; Os: string; Arch: string };
  Server?: {
    Version: string;
    APIVersion: string;
    GitCommit: string;
    NodeVersion: string;
    Os: string;
    Arch: string;
    KernelVersion: string;
  };
}

/** ` Label:` padded as docker's tabwriter leaves it. */
const field = (indent: string, label: string, value: string) =>
  `${`${indent}${label}:`.padEnd(20)}${value}\n`;

function versionText(v: VersionView): string {
  const c = v.Client;
  let text = `Client:\n${field(' ', 'Version', c.Version)}${field(' ', 'API version', c.APIVersion)}${field(' ', 'Node version', c.NodeVersion)}${field(' ', 'OS/Arch', `${c.Os}/${c.Arch}`)}`;
  const s = v.Server;
  if (s)
    text += `\nServer:\n Engine:\n${field('  ', 'Version', s.Version)}${field('  ', 'API version', s.APIVersion)}${field('  ', 'Node version', s.NodeVersion)}${field('  ', 'Git commit', s.GitCommit || 'unknown')}${field('  ', 'OS/Arch', `${s.Os}/${s.Arch}`)}${field('  ', 'Kernel Version', s.KernelVersion)}`;
  return text;
}

export function versionCommand(ctx: CliContext, name = 'version'): Command {
  return new Command(name)
    .description('Show the tsnet version information')
    .option('-f, --format <string>', "Format output using a custom template: 'json', 'TEMPLATE'")
    .action(async (options: { format?: string }) => {
      const formatter = options.format ? templateFormatter<VersionView>(options.format) : undefined;
      const view: VersionView = {
        Client: {
          Version: CLIENT_VERSION,
          APIVersion: API_VERSION,
          NodeVersion: process.version,
          Os: process.platform,
          Arch: dockerArch(),
        },
      };
      const print = () => ctx.stdout.write(formatter ? formatter.render([view]) : versionText(view));
      try {
        const s = await ctx.agent().version();
        view.Server = {
          Version: s.version,
          APIVersion: s.apiVersion,
          GitCommit: s.gitCommit,
          NodeVersion: s.nodeVersion,
          Os: s.os,
          Arch: s.arch,
          KernelVersion: s.kernelVersion,
        };
      } catch (err) {
        // Like docker: what the client knows, then why there is no server section.
        if (!formatter) print();
        throw err;
      }
      print();
    });
}
