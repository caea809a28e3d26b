// How to run tsnet-agent and the CNI plugins from this checkout: the bundles `npm run build` makes when present,
// else the TypeScript sources through tsx.
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const REPO_ROOT = resolve(import.meta.dirname, '../..');
export const DIST_CNI = join(REPO_ROOT, 'dist/cni');
// scripts/build.ts names a command's bundle after its directory (cmd/agent -> dist/bin/agent).
const AGENT_BUNDLES = [join(REPO_ROOT, 'dist/bin/tsnet-agent'), join(REPO_ROOT, 'dist/bin/agent')];
const AGENT_SOURCE = join(REPO_ROOT, 'cmd/agent/main.ts');

/**
 * The argv prefix that starts tsnet-agent: the bundle (`dist/bin/...`) when built, else
 * `[node, --import=tsx, cmd/agent/main.ts]`. TSNET_AGENT_FROM_SOURCE=1 forces the sources (a stale bundle while
 * developing).
 */
export function agentCommand(): string[] {
  const bundle = AGENT_BUNDLES.find((path) => existsSync(path));
  if (bundle && process.env['TSNET_AGENT_FROM_SOURCE'] !== '1') return [bundle];
  if (existsSync(AGENT_SOURCE)) return [process.execPath, '--import=tsx', AGENT_SOURCE];
  throw new Error(
    `tsnet-agent not found: neither ${AGENT_BUNDLES.join(' nor ')} (npm run build) nor ${AGENT_SOURCE}`,
  );
}

const CTL_BUNDLE = join(REPO_ROOT, 'dist/bin/tsnetctl');
const CTL_SOURCE = join(REPO_ROOT, 'cmd/tsnetctl/main.ts');

/** The argv prefix that starts tsnetctl, chosen as agentCommand() chooses (TSNET_AGENT_FROM_SOURCE too). */
export function ctlCommand(): string[] {
  if (existsSync(CTL_BUNDLE) && process.env['TSNET_AGENT_FROM_SOURCE'] !== '1') return [CTL_BUNDLE];
  if (existsSync(CTL_SOURCE)) return [process.execPath, '--import=tsx', CTL_SOURCE];
  throw new Error(`tsnetctl not found: neither ${CTL_BUNDLE} (npm run build) nor ${CTL_SOURCE}`);
}

/** The executable of a CNI plugin built into dist/cni. */
export function cniPluginPath(type: string): string {
  const path = join(DIST_CNI, type);
  if (!existsSync(path)) throw new Error(`CNI plugin ${type} not found in ${DIST_CNI}: run npm run build`);
  return path;
}
