// The engine's health checks at run time: for each run of a container that has a check, a loop that waits the
// interval, execs the probe into the container (the exec path of `tsnetctl exec`), kills it past its timeout,
// and records the result in the container's turn (State.Health in the record, written like every record
// write), with Docker's `health_status: healthy|unhealthy` event when the status changes. The loop belongs to
// one run: it ends with the run's watch (exit, stop, agent stop) and the engine starts a new one with the next
// run or, after an agent restart, when it watches the surviving run again. A paused container is not probed.

import {
  applyProbeResult,
  HEALTH_OUTPUT_BYTES,
  type HealthLogEntry,
  type HealthProbe,
  nextProbeDelayMs,
  PROBE_FAILED_EXIT,
  probeOf,
} from '../container/health.ts';
import type { ContainerRecord } from '../container/record.ts';
import type { Logger } from '../log/index.ts';
import type { ExecTarget } from '../runtime/exec.ts';
import { startExec } from '../runtime/exec.ts';
import { formatGoDuration } from '../time/go-duration.ts';

/** What the monitor needs of the engine. */
export interface HealthHost {
  /** the record, if the container still exists */
  record(id: string): ContainerRecord | undefined;
  /** where a probe of this container execs */
  execTarget(id: string): ExecTarget;
  /** runs `fn` in the container's turn, after and before its other operations */
  turn(id: string, fn: () => Promise<void>): Promise<void>;
  save(record: ContainerRecord): Promise<void>;
  publish(action: string, record: ContainerRecord): void;
  log(): Logger | undefined;
}

export class HealthMonitor {
  constructor(private readonly host: HealthHost) {}

  /**
   * Probes the run of container `id` that conmon `monitorPid` watches, until `until` aborts; nothing for a
   * container without a check.
   */
  watch(id: string, monitorPid: number, until: AbortSignal): void {
    const record = this.host.record(id);
    const probe = record && probeOf(record.config.healthcheck, record.config.shell);
    if (!probe) return;
    this.loop(id, monitorPid, probe, until).catch((err: unknown) =>
      this.host.log()?.error({ container: id, err: (err as Error).message }, 'health check loop failed'),
    );
  }

  private async loop(id: string, monitorPid: number, probe: HealthProbe, until: AbortSignal): Promise<void> {
    while (!until.aborted) {
      const before = this.host.record(id);
      if (!before) return;
      await sleep(nextProbeDelayMs(probe, before.state.health, before.state.startedAt, Date.now()), until);
      const record = this.host.record(id);
      if (until.aborted || !record) return;
      // a run that is not (or not yet) running is skipped, not failed: paused, or runc start still to come
      if (record.state.monitorPid !== monitorPid || record.state.status !== 'running') continue;
      const result = await runProbe(this.host.execTarget(id), probe, until);
      if (until.aborted) return;
      await this.host.turn(id, () => this.record(id, monitorPid, probe, result));
    }
  }

  /** The result into the record, if the run it probed is still the one running. */
  private async record(id: string, monitorPid: number, probe: HealthProbe, result: HealthLogEntry) {
    const record = this.host.record(id);
    if (!record || record.state.monitorPid !== monitorPid || record.state.status !== 'running') return;
    const previous = record.state.health?.status;
    record.state.health = applyProbeResult(record.state.health, result, probe, record.state.startedAt);
    await this.host.save(record);
    if (record.state.health.status !== previous && record.state.health.status !== 'starting')
      this.host.publish(`health_status: ${record.state.health.status}`, record);
  }
}

/** One probe: exit code and output (stdout and stderr together, cut at Docker's 4 KiB), or -1 and why. */
async function runProbe(target: ExecTarget, probe: HealthProbe, until: AbortSignal): Promise<HealthLogEntry> {
  const start = new Date();
  const entry = (exitCode: number, output: string): HealthLogEntry => ({
    Start: start.toISOString(),
    End: new Date().toISOString(),
    ExitCode: exitCode,
    Output: output,
  });
  let session: Awaited<ReturnType<typeof startExec>>;
  try {
    session = await startExec(target, { cmd: probe.argv });
  } catch (err) {
    return entry(PROBE_FAILED_EXIT, (err as Error).message);
  }
  const output = new CappedText(HEALTH_OUTPUT_BYTES);
  session.stdout.on('data', (b: Buffer) => output.add(b));
  session.stderr.on('data', (b: Buffer) => output.add(b));
  // the agent stopping or the run ending ends the probe as its timeout does
  let stopWaiting: () => void = () => undefined;
  const timedOut = new Promise<'timeout'>((resolve) => {
    const timer = setTimeout(() => resolve('timeout'), probe.timeoutMs);
    const onAbort = () => resolve('timeout');
    until.addEventListener('abort', onAbort, { once: true });
    stopWaiting = () => {
      clearTimeout(timer);
      until.removeEventListener('abort', onAbort);
    };
  });
  const ended = await Promise.race([session.exit, timedOut]);
  stopWaiting();
  if (ended === 'timeout') {
    await session.kill();
    await session.exit;
    return entry(
      PROBE_FAILED_EXIT,
      `Health check exceeded timeout (${formatGoDuration(probe.timeoutMs * 1e6)})`,
    );
  }
  // a command that could not run (126, 127) says why in runc's words, as Docker's output does
  return entry(ended.exitCode, ended.error && !output.text() ? ended.error : output.text());
}

/** The first `limit` bytes of what a probe writes. */
class CappedText {
  private readonly chunks: Buffer[] = [];
  private size = 0;
  constructor(private readonly limit: number) {}

  add(b: Buffer): void {
    if (this.size >= this.limit) return;
    const part = b.subarray(0, this.limit - this.size);
    this.chunks.push(part);
    this.size += part.length;
  }

  text(): string {
    return Buffer.concat(this.chunks).toString('utf8');
  }
}

function sleep(ms: number, until: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      until.removeEventListener('abort', done);
      resolve();
    }
    until.addEventListener('abort', done, { once: true });
  });
}
