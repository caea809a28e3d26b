// A real agent with the busybox test image loaded, driven through tsnetctl (-H its socket): for the tests
// of what users see (logs, run -i, health). Containers are removed with `rm -f` in teardown.
import { execFileSync, spawn } from 'node:child_process';
import { join } from 'node:path';
import type { ExecutionContext } from 'ava';
import { type Outcome, outcome, TSNETCTL } from '../ctl/cli.ts';
import { startTestAgent, type TestAgent } from './agent.ts';
import { withNetnses } from './netns.ts';
import { writeBusyboxLayout } from './registry.ts';
import { withTempDir } from './tmp.ts';

export const TEST_IMAGE = 'tsnet-test/busybox:latest';

export interface Engine {
  readonly agent: TestAgent;
  readonly dir: string;
  /** tsnetctl -H the agent's socket */
  ctl(...args: string[]): Promise<Outcome>;
  /** tsnetctl that must succeed: its stdout */
  ok(...args: string[]): Promise<string>;
  /** tsnetctl with `input` on its stdin */
  ctlWithInput(input: string, ...args: string[]): Promise<Outcome>;
  /** the argv of tsnetctl -H the agent's socket, for spawning it */
  readonly argv: readonly string[];
  /** SIGKILLs the agent and starts it again on the same dirs */
  restart(): Promise<void>;
}

/**
 * `netnsPath`: run the agent in this namespace (e.g. a test registry's) instead of one of its own;
 * `agentArgs`: more flags of its `run`.
 */
export async function withEngine(
  t: ExecutionContext,
  fn: (e: Engine) => Promise<void>,
  options: { netnsPath?: string; agentArgs?: readonly string[] } = {},
): Promise<void> {
  t.timeout(180_000);
  const inNetns = (body: (netnsPath: string) => Promise<void>) =>
    options.netnsPath !== undefined
      ? body(options.netnsPath)
      : withNetnses('eng', 1, ([ns]) => body(ns!.path));
  await inNetns((netnsPath) =>
    withTempDir(async (dir) => {
      const agentOptions = { args: options.agentArgs ?? [] };
      let agent = startTestAgent(netnsPath, dir, agentOptions);
      const argv = [...TSNETCTL, '-H', `unix://${agent.socket}`];
      const ctl = (...args: string[]) => outcome(argv[0]!, [...argv.slice(1), ...args]);
      const engine: Engine = {
        get agent() {
          return agent;
        },
        dir,
        ctl,
        async ok(...args) {
          const r = await ctl(...args);
          if (r.code !== 0) throw new Error(`tsnetctl ${args.join(' ')}: exit ${r.code}: ${r.stderr}`);
          return r.stdout;
        },
        ctlWithInput: (input, ...args) => runWithInput(argv, args, input),
        argv,
        async restart() {
          agent.child.kill('SIGKILL');
          await agent.exited;
          agent = startTestAgent(netnsPath, dir, agentOptions);
          (await agent.connect()).close();
        },
      };
      try {
        (await agent.connect()).close();
        const image = await writeBusyboxLayout(join(dir, 'layout'), 'v1', ['linux/amd64']);
        const archive = join(dir, 'busybox.tar');
        execFileSync('skopeo', [
          'copy',
          '--quiet',
          `oci:${image.layout}:v1`,
          `docker-archive:${archive}:${TEST_IMAGE}`,
        ]);
        const loaded = await ctl('load', '-q', '-i', archive);
        if (loaded.code !== 0) throw new Error(`load: ${loaded.stderr}`);
        await fn(engine);
      } catch (err) {
        t.log(agent.log().slice(-3000));
        throw err;
      } finally {
        const ids = (await ctl('ps', '-aq', '--no-trunc')).stdout.split('\n').filter(Boolean);
        for (const id of ids) await ctl('rm', '-f', id);
        await agent.stop();
      }
    }, 'tsne-'),
  );
}

function runWithInput(argv: readonly string[], args: readonly string[], input: string): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0]!, [...argv.slice(1), ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => {
      stdout += s;
    });
    child.stderr.setEncoding('utf8').on('data', (s: string) => {
      stderr += s;
    });
    child.once('error', reject);
    child.once('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    child.stdin.end(input);
  });
}
