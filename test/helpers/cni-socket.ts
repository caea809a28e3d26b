// A client of the agent's CNI socket that lies: the attacker the server's peer check is there for.
import { execFile } from 'node:child_process';
import type { PluginOutput } from '../../pkg/cni/output.ts';

/**
 * A hand-written client that skips the plugin's own namespace check: it copies the agent's netns inode from
 * the hello into its request, as an attacker in another namespace would. Plain JS for `node -e`.
 */
const FORGING_CLIENT = `
const socket = require('node:net').createConnection(process.env.SOCK);
let buf = '';
let sent = false;
socket.on('data', (d) => {
  buf += d;
  for (let i = buf.indexOf('\\n'); i >= 0; i = buf.indexOf('\\n')) {
    const line = buf.slice(0, i);
    buf = buf.slice(i + 1);
    if (sent) { process.stdout.write(line); socket.destroy(); return; }
    const request = JSON.parse(process.env.REQUEST);
    request.netns = JSON.parse(line).netns;
    socket.write(JSON.stringify(request) + '\\n');
    sent = true;
  }
});
socket.on('error', (e) => { process.stderr.write(String(e)); process.exitCode = 2; });
`;

/** Runs the forging client under `wrapper` (nsenter, unshare, ...) as `uid`; resolves the agent's answer. */
export function runForgingClient(
  wrapper: string[],
  path: string,
  request: { plugin: string; env: Record<string, string>; stdin: string },
  ids: { uid?: number; gid?: number } = {},
): Promise<PluginOutput> {
  return new Promise((resolve, reject) => {
    const [cmd = '', ...args] = [...wrapper, process.execPath, '-e', FORGING_CLIENT];
    execFile(
      cmd,
      args,
      {
        cwd: '/',
        env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', SOCK: path, REQUEST: JSON.stringify(request) },
        timeout: 20_000,
        ...ids,
      },
      (err, stdout, stderr) => {
        if (err) return reject(new Error(`forging client failed: ${err.message}: ${stderr}`));
        try {
          resolve(JSON.parse(stdout) as PluginOutput);
        } catch {
          reject(new Error(`forging client got no answer: ${JSON.stringify(stdout)} ${stderr}`));
        }
      },
    );
  });
}
