// A Dockerfile RUN as a container of the engine: created from the stage so far (an unnamed image of the
// build's layers), on the default bridge network, started, its log followed as it runs, and removed once the
// builder has written its upper dir as a layer (or at once on failure).
import { randomBytes } from 'node:crypto';
import type { RunOutcome, RunStep, StepRunner } from '../build/builder.ts';
import { readLogs } from '../logs/reader.ts';
import type { OverlaySnapshotter } from '../snapshot/overlay.ts';
import { ETC_MOUNT_POINTS } from './container-etc.ts';
import { type ContainerService, containerSnapshotKey } from './containers.ts';

export class EngineStepRunner implements StepRunner {
  constructor(
    private readonly engine: ContainerService,
    private readonly snapshots: OverlaySnapshotter,
  ) {}

  async run(step: RunStep): Promise<RunOutcome> {
    const spec = {
      Image: `build-step-${step.image.id.slice(7, 19)}`,
      Cmd: step.argv,
      Entrypoint: [],
      Env: step.env,
      WorkingDir: step.workdir,
      User: step.user,
      Labels: { 'tsnet.build': 'step' },
      HostConfig: { NetworkMode: 'bridge' },
    };
    const { id } = await this.engine.create({
      specJson: JSON.stringify(spec),
      name: `tsnet-build-${randomBytes(6).toString('hex')}`,
      pullMissing: false,
      image: step.image,
    });
    const release = async () => {
      await this.engine.removeContainer(id, true, true);
    };
    try {
      step.onContainer?.(id);
      const exited = this.engine.waitExit(id);
      await this.engine.startContainer(id);
      const { logPath } = await this.engine.get(id);
      for await (const entry of readLogs(logPath, { follow: true, stopped: exited }))
        step.onOutput(entry.data);
      const { exitCode } = await exited;
      const upper = await this.snapshots.directory(containerSnapshotKey(id));
      return { exitCode, upper, mountPoints: ETC_MOUNT_POINTS, release };
    } catch (err) {
      await release().catch(() => undefined);
      throw err;
    }
  }
}
