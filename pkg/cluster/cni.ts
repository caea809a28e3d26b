// Runs the tsnet-vxlan CNI plugin the way a runtime does: a process inside the node's namespace, the network
// config on stdin, the CNI_* environment, and the JSON result (or error) on stdout.
import { spawn } from 'node:child_process';
import { cniPluginPath, DIST_CNI } from './agent.ts';

export interface CniCall {
  nodeNetns: string;
  /** The node agent's CNI socket: the plugin forwards there while the agent runs, else runs in-process. */
  cniSocket?: string;
  command: 'ADD' | 'DEL' | 'CHECK';
  containerId: string;
  netns: string;
  ifname: string;
  config: Record<string, unknown>;
}

export interface CniAddResult {
  ips?: { address: string; gateway?: string }[];
}

export async function runCni(call: CniCall): Promise<Record<string, unknown> | undefined> {
  const type = String(call.config['type']);
  const env = {
    PATH: process.env['PATH'] ?? '/usr/sbin:/usr/bin:/sbin:/bin',
    CNI_COMMAND: call.command,
    CNI_CONTAINERID: call.containerId,
    CNI_NETNS: call.netns,
    CNI_IFNAME: call.ifname,
    CNI_PATH: DIST_CNI,
    ...(call.cniSocket ? { TSNET_CNI_SOCKET: call.cniSocket } : {}),
  };
  const { code, stdout, stderr } = await new Promise<{ code: number | null; stdout: string; stderr: string }>(
    (resolve, reject) => {
      const child = spawn('nsenter', [`--net=${call.nodeNetns}`, cniPluginPath(type)], { env });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => {
        stdout += d.toString();
      });
      child.stderr.on('data', (d: Buffer) => {
        stderr += d.toString();
      });
      child.on('error', reject);
      child.on('close', (exitCode) => resolve({ code: exitCode, stdout, stderr }));
      child.stdin.on('error', () => undefined);
      child.stdin.end(JSON.stringify(call.config));
    },
  );
  let json: Record<string, unknown> | undefined;
  try {
    json = stdout.trim() === '' ? undefined : (JSON.parse(stdout) as Record<string, unknown>);
  } catch {
    json = undefined;
  }
  if (code !== 0) {
    const msg = json ? `${json['msg'] ?? ''} ${json['details'] ?? ''}`.trim() : stdout.trim();
    throw new Error(
      `${type} ${call.command} for ${call.containerId} failed (exit ${code}): ${msg || stderr.trim() || 'no output'}`,
    );
  }
  return json;
}

/** The container's IPv4 address (without prefix length) from an ADD result. */
export function firstIPv4(result: Record<string, unknown> | undefined): string {
  const ips = (result as CniAddResult | undefined)?.ips ?? [];
  const v4 = ips.find((entry) => /^\d+\.\d+\.\d+\.\d+\//.test(entry.address));
  if (!v4) throw new Error(`CNI result has no IPv4 address: ${JSON.stringify(result)}`);
  return v4.address.split('/')[0] ?? '';
}
