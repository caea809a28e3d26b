// The cluster's image registry: Debian's docker-registry (the distribution registry) in its own namespace on the
// underlay, at REGISTRY_HOST, with a config written here (the packaged one listens on every interface of the
// host) and its storage in the cluster's directory. Plain HTTP: agents run with --insecure-registry REGISTRY_HOST.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { nsRun, PollAbort, pollUntil } from './exec.ts';
import { isAlive, spawnLogged } from './process.ts';

export const REGISTRY_UNDERLAY_IP = '198.18.0.253';
export const REGISTRY_HOST = `${REGISTRY_UNDERLAY_IP}:5000`;

/** Starts docker-registry in `netnsPath` and returns its pid once `/v2/` answers. */
export async function startRegistryServer(options: { dir: string; netnsPath: string }): Promise<number> {
  mkdirSync(options.dir, { recursive: true });
  const config = join(options.dir, 'config.yml');
  writeFileSync(
    config,
    [
      'version: 0.1',
      'log:',
      '  level: warn',
      'storage:',
      '  filesystem:',
      `    rootdirectory: ${join(options.dir, 'storage')}`,
      'http:',
      `  addr: ${REGISTRY_HOST}`,
      '',
    ].join('\n'),
  );
  const log = join(options.dir, 'registry.log');
  const child = await spawnLogged(
    'nsenter',
    [`--net=${options.netnsPath}`, '/usr/bin/docker-registry', 'serve', config],
    { logFile: log },
  );
  const pid = child.pid ?? 0;
  child.unref();
  await pollUntil(
    'the registry to answer /v2/',
    async () => {
      if (!isAlive(pid)) throw new PollAbort(`docker-registry exited; see ${log}`);
      const status = await nsRun(options.netnsPath, 'curl', [
        '-s',
        '-o',
        '/dev/null',
        '-m',
        '2',
        '-w',
        '%{http_code}',
        `http://${REGISTRY_HOST}/v2/`,
      ]);
      return status.trim() === '200';
    },
    { timeoutMs: 60_000, intervalMs: 100 },
  );
  return pid;
}
