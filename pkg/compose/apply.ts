// Applying an `up` or `down` plan (plan.ts) through the agent's API, step by step, with Compose's progress
// lines (` Container proj-web-1  Started`). What the agent has is read first (existingResources), so that
// plan and apply see the same world; a container created but not started because a later call failed is
// removed again, so a failed `up` leaves no half-made container behind.
import type { AgentClient } from '../api/client.ts';
import type { ComposeProject } from './model.ts';
import type { DownPlan, ExistingResources, UpPlan, UpStep } from './plan.ts';
import { LABEL, type ServiceContainer } from './to-create.ts';

/** The calls apply needs: AgentClient, or a fake of it in a test. */
export type ComposeAgent = Pick<
  AgentClient,
  | 'containers'
  | 'networks'
  | 'volumes'
  | 'createNetwork'
  | 'createVolume'
  | 'createContainer'
  | 'startContainer'
  | 'stopContainer'
  | 'restartContainer'
  | 'removeContainer'
  | 'removeNetwork'
  | 'removeVolume'
  | 'connectNetwork'
  | 'inspectContainer'
  | 'waitContainer'
>;

/** One progress line: `Container proj-web-1  Started`. */
export type Progress = (kind: 'Network' | 'Volume' | 'Container', name: string, status: string) => void;

/** A dependency that did not become healthy or complete, or a step the agent refused (with its context). */
export class ApplyError extends Error {
  override name = 'ApplyError';
}

const HEALTH_POLL_MS = 500;

/** The project's containers (all states), networks and volumes, found by Compose's project label. */
export async function existingResources(
  agent: ComposeAgent,
  project: ComposeProject,
): Promise<ExistingResources> {
  const filter = `label=${LABEL.project}=${project.name}`;
  const [containers, networks, volumes] = await Promise.all([
    agent.containers({ all: true, filters: [filter] }),
    agent.networks(),
    agent.volumes(),
  ]);
  return { containers: containers.containers, networks: networks.networks, volumes: volumes.volumes };
}

export interface ApplyUpResult {
  /** service → its container's ID, for what follows (attach, ps) */
  readonly containers: ReadonlyMap<string, string>;
}

export async function applyUp(
  agent: ComposeAgent,
  project: ComposeProject,
  plan: UpPlan,
  progress: Progress,
): Promise<ApplyUpResult> {
  const ids = new Map<string, string>();
  for (const step of plan.steps) await applyUpStep(agent, project, step, progress, ids);
  return { containers: ids };
}

async function applyUpStep(
  agent: ComposeAgent,
  project: ComposeProject,
  step: UpStep,
  progress: Progress,
  ids: Map<string, string>,
): Promise<void> {
  switch (step.kind) {
    case 'create-network': {
      const name = step.request.name ?? step.key;
      progress('Network', name, 'Creating');
      await agent.createNetwork(step.request);
      progress('Network', name, 'Created');
      return;
    }
    case 'create-volume': {
      const name = step.request.name ?? step.key;
      progress('Volume', `"${name}"`, 'Creating');
      await agent.createVolume(step.request);
      progress('Volume', `"${name}"`, 'Created');
      return;
    }
    case 'wait':
      return waitForDependency(agent, project, step, progress, ids);
    case 'keep':
      ids.set(step.service, step.containerId);
      progress('Container', step.name, 'Running');
      return;
    case 'start':
      ids.set(step.service, step.containerId);
      progress('Container', step.name, 'Starting');
      await agent.startContainer(step.containerId);
      progress('Container', step.name, 'Started');
      return;
    case 'restart':
      ids.set(step.service, step.containerId);
      progress('Container', step.name, 'Restarting');
      await agent.restartContainer(step.containerId);
      progress('Container', step.name, 'Started');
      return;
    case 'recreate':
      progress('Container', step.name, 'Recreate');
      await stopAndRemove(agent, step.containerId, false);
      ids.set(step.service, await createAndStart(agent, project, step.create, progress, 'Recreated'));
      return;
    case 'create':
      progress('Container', step.create.name, 'Creating');
      ids.set(step.service, await createAndStart(agent, project, step.create, progress, 'Created'));
      return;
    case 'remove-container':
      progress('Container', step.name, 'Stopping');
      await stopAndRemove(agent, step.containerId, false);
      progress('Container', step.name, 'Removed');
      return;
  }
}

/**
 * Create (the first network in the spec), connect to the service's other networks with their aliases,
 * start. A container that could not be connected or started is removed, so the next `up` creates it anew.
 */
async function createAndStart(
  agent: ComposeAgent,
  project: ComposeProject,
  create: ServiceContainer,
  progress: Progress,
  createdStatus: 'Created' | 'Recreated',
): Promise<string> {
  const { id } = await agent.createContainer({
    specJson: JSON.stringify(create.spec),
    name: create.name,
    pullMissing: true,
  });
  progress('Container', create.name, createdStatus);
  try {
    const endpoints = create.spec.NetworkingConfig?.EndpointsConfig ?? {};
    const first = create.spec.HostConfig?.NetworkMode;
    for (const [network, endpoint] of Object.entries(endpoints)) {
      if (network === first) continue;
      await agent.connectNetwork({
        network,
        container: id,
        aliases: [...(endpoint.Aliases ?? [])],
        ipv4Address: endpoint.IPAMConfig?.IPv4Address ?? '',
      });
    }
    progress('Container', create.name, 'Starting');
    await agent.startContainer(id);
  } catch (err) {
    await agent.removeContainer({ container: id, force: true }).catch(() => undefined);
    throw new ApplyError(`container ${create.name} of project ${project.name}: ${(err as Error).message}`, {
      cause: err,
    });
  }
  progress('Container', create.name, 'Started');
  return id;
}

async function stopAndRemove(agent: ComposeAgent, container: string, volumes: boolean): Promise<void> {
  await agent.stopContainer(container);
  await agent.removeContainer({ container, force: true, volumes });
}

interface HealthState {
  Status?: string;
  Running?: boolean;
  ExitCode?: number;
  Health?: { Status?: string };
}

/** depends_on's service_healthy (State.Health of inspect) and service_completed_successfully (Wait). */
async function waitForDependency(
  agent: ComposeAgent,
  project: ComposeProject,
  step: Extract<UpStep, { kind: 'wait' }>,
  progress: Progress,
  ids: ReadonlyMap<string, string>,
): Promise<void> {
  const id = ids.get(step.service);
  const name = `${project.name}-${step.service}-1`;
  if (id === undefined)
    throw new ApplyError(`service ${step.dependent} depends on ${step.service}, which has no container`);
  progress('Container', name, 'Waiting');
  if (step.condition === 'service_completed_successfully') {
    const { exitCode } = await agent.waitContainer(id);
    if (exitCode !== 0)
      throw new ApplyError(`service "${step.service}" didn't complete successfully: exit ${exitCode}`);
    progress('Container', name, 'Exited');
    return;
  }
  // docker compose's order of checks (isServiceHealthy): an exit first, then the check's status
  for (;;) {
    const state = ((await agent.inspectContainer(id)).State ?? {}) as HealthState;
    if (state.Status === 'exited' || state.Status === 'dead')
      throw new ApplyError(`dependency failed to start: container ${name} exited (${state.ExitCode ?? '?'})`);
    const health = state.Health?.Status;
    if (health === undefined)
      throw new ApplyError(`dependency failed to start: container ${name} has no healthcheck configured`);
    if (health === 'healthy') break;
    if (health === 'unhealthy')
      throw new ApplyError(`dependency failed to start: container ${name} is unhealthy`);
    await new Promise((resolve) => setTimeout(resolve, HEALTH_POLL_MS));
  }
  progress('Container', name, 'Healthy');
}

export async function applyDown(agent: ComposeAgent, plan: DownPlan, progress: Progress): Promise<void> {
  for (const step of plan.steps) {
    switch (step.kind) {
      case 'remove-container':
        progress('Container', step.name, 'Stopping');
        await agent.stopContainer(step.containerId);
        progress('Container', step.name, 'Stopped');
        progress('Container', step.name, 'Removing');
        await agent.removeContainer({
          container: step.containerId,
          force: true,
          volumes: step.removeAnonymousVolumes,
        });
        progress('Container', step.name, 'Removed');
        break;
      case 'remove-network':
        progress('Network', step.name, 'Removing');
        await agent.removeNetwork(step.name);
        progress('Network', step.name, 'Removed');
        break;
      case 'remove-volume':
        progress('Volume', step.name, 'Removing');
        await agent.removeVolume(step.name);
        progress('Volume', step.name, 'Removed');
        break;
    }
  }
}
