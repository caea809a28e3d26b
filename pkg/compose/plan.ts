// What `compose up` and `compose down` must do, computed from the model and what the agent's List calls
// answer, before anything is changed: an ordered list of steps that an executor applies one by one (and can
// print for a dry run). Pure functions; Compose's rules: a container whose config hash still matches is kept
// (or started when stopped), a changed one is recreated — only it, plus a restart of the dependents that ask
// for it with `depends_on.<s>.restart: true` —, a missing one is created; services go in dependency order,
// waiting for the conditions depends_on names; `down` goes in reverse order, then networks, then (with -v)
// volumes.
import type { ContainerSummary__Output } from '../api/generated/tsnet/v1/ContainerSummary.ts';
import type { CreateNetworkRequest } from '../api/generated/tsnet/v1/CreateNetworkRequest.ts';
import type { CreateVolumeRequest } from '../api/generated/tsnet/v1/CreateVolumeRequest.ts';
import type { NetworkSummary__Output } from '../api/generated/tsnet/v1/NetworkSummary.ts';
import type { VolumeSummary__Output } from '../api/generated/tsnet/v1/VolumeSummary.ts';
import type { ComposeProject, DependencyCondition, ServiceConfig } from './model.ts';
import {
  containerName,
  LABEL,
  networkCreateRequest,
  type ServiceContainer,
  serviceCreateSpec,
  volumeCreateRequest,
} from './to-create.ts';

export type ContainerInfo = Pick<ContainerSummary__Output, 'id' | 'names' | 'state' | 'labels'> & {
  readonly imageId?: string;
};
export type NetworkInfo = Pick<NetworkSummary__Output, 'id' | 'name' | 'labels'>;
export type VolumeInfo = Pick<VolumeSummary__Output, 'name' | 'labels'>;

/** What the agent has now (List with all: true; the plan picks the project's own by label and name). */
export interface ExistingResources {
  readonly containers: readonly ContainerInfo[];
  readonly networks: readonly NetworkInfo[];
  readonly volumes: readonly VolumeInfo[];
}

/** A plan that cannot be made: a dependency cycle, a missing external resource. */
export class PlanError extends Error {
  override name = 'PlanError';
}

interface ExistingContainer {
  readonly service: string;
  readonly containerId: string;
  readonly name: string;
}

/**
 * One step of `up`, in the order the executor must apply them. The API calls each stands for:
 * create-network → Networks.Create(request); create-volume → Volumes.Create(request);
 * wait → poll Containers.Inspect of the service's container until State.Health.Status is "healthy"
 * (service_healthy; "unhealthy" fails the up) or it exited 0 (service_completed_successfully; another
 * code fails); keep → nothing; start → Containers.Start; restart → Containers.Restart;
 * recreate → Stop, Remove, then as create; create → Containers.Create({spec_json, name}) then Start;
 * remove-container → Stop then Remove.
 */
export type UpStep =
  | { readonly kind: 'create-network'; readonly key: string; readonly request: CreateNetworkRequest }
  | { readonly kind: 'create-volume'; readonly key: string; readonly request: CreateVolumeRequest }
  /** before starting `dependent`: wait until `service`'s container is healthy / exited 0 */
  | {
      readonly kind: 'wait';
      readonly service: string;
      readonly condition: Exclude<DependencyCondition, 'service_started'>;
      readonly dependent: string;
    }
  | ({ readonly kind: 'keep' } & ExistingContainer)
  | ({ readonly kind: 'start' } & ExistingContainer)
  /** the dependency `because` was recreated and the service asked to be restarted then */
  | ({ readonly kind: 'restart'; readonly because: string } & ExistingContainer)
  /** stop and remove the old container, then create and start `create` (same name) */
  | ({ readonly kind: 'recreate'; readonly create: ServiceContainer } & ExistingContainer)
  /** create and start */
  | { readonly kind: 'create'; readonly service: string; readonly create: ServiceContainer }
  /** an orphan (`--remove-orphans`) or a container beyond the service's one: stop and remove */
  | ({ readonly kind: 'remove-container'; readonly reason: 'orphan' | 'scale' } & ExistingContainer);

export interface UpOptions {
  /** `up web`: these services and what they depend on; default all */
  readonly services?: readonly string[];
  /**
   * `up --no-deps web`: the named services alone, their dependencies neither created nor waited for (they
   * may run elsewhere: on another node, on the project's overlay network)
   */
  readonly noDeps?: boolean;
  readonly removeOrphans?: boolean;
  readonly forceRecreate?: boolean;
  readonly noRecreate?: boolean;
  /** service → the image ID it is to run (what `up` has just built): a container of another image is stale */
  readonly images?: ReadonlyMap<string, string>;
}

export interface UpPlan {
  readonly steps: readonly UpStep[];
  /** containers of the project whose service is gone (removed only with removeOrphans) */
  readonly orphans: readonly ExistingContainer[];
  readonly warnings: readonly string[];
}

const RUNNING = new Set(['running', 'restarting', 'paused']);

export function planUp(project: ComposeProject, existing: ExistingResources, opts: UpOptions = {}): UpPlan {
  const order = dependencyOrder(project.services);
  const selected = selectServices(project, opts.services, opts.noDeps === true);
  const warnings: string[] = [];
  const steps: UpStep[] = [];
  const ours = projectContainers(project.name, existing.containers);
  const orphans = ours.filter((c) => !(c.service in project.services)).map(toExisting);
  if (orphans.length > 0 && !opts.removeOrphans) {
    warnings.push(
      `found orphan containers (${orphans.map((o) => o.name).join(', ')}) for this project; run with --remove-orphans to clean them up`,
    );
  }
  if (opts.removeOrphans)
    for (const o of orphans) steps.push({ kind: 'remove-container', reason: 'orphan', ...o });

  const usedNetworks = new Set(
    [...selected].flatMap((s) => Object.keys(project.services[s]?.networks ?? {})),
  );
  for (const key of Object.keys(project.networks).sort()) {
    if (!usedNetworks.has(key)) continue;
    const n = project.networks[key] as ComposeProject['networks'][string];
    const found = existing.networks.find((e) => e.name === n.name);
    if (n.external) {
      if (!found) throw new PlanError(`network ${n.name} declared as external, but could not be found`);
      continue;
    }
    if (found) {
      if (found.labels[LABEL.project] !== project.name || found.labels[LABEL.network] !== key) {
        warnings.push(
          `a network with name ${n.name} exists but was not created for project "${project.name}"; set \`external: true\` to use an existing network`,
        );
      }
      continue;
    }
    steps.push({ kind: 'create-network', key, request: networkCreateRequest(project, key) });
  }
  const usedVolumes = new Set(
    [...selected].flatMap((s) =>
      (project.services[s]?.volumes ?? [])
        .filter((v) => v.type === 'volume' && v.source !== undefined)
        .map((v) => v.source as string),
    ),
  );
  for (const key of Object.keys(project.volumes).sort()) {
    if (!usedVolumes.has(key)) continue;
    const v = project.volumes[key] as ComposeProject['volumes'][string];
    const found = existing.volumes.find((e) => e.name === v.name);
    if (v.external) {
      if (!found) throw new PlanError(`external volume "${v.name}" not found`);
      continue;
    }
    if (found) {
      if (found.labels[LABEL.project] !== project.name) {
        warnings.push(
          `volume "${v.name}" already exists but was not created by tsnet compose; use \`external: true\` to use an existing volume`,
        );
      }
      continue;
    }
    steps.push({ kind: 'create-volume', key, request: volumeCreateRequest(project, key) });
  }

  const recreated = new Set<string>();
  for (const name of order) {
    if (!selected.has(name)) continue;
    const service = project.services[name] as ServiceConfig;
    for (const [dep, d] of Object.entries(service.depends_on)) {
      if (d.condition !== 'service_started' && selected.has(dep)) {
        steps.push({ kind: 'wait', service: dep, condition: d.condition, dependent: name });
      }
    }
    const mine = ours.filter((c) => c.service === name).sort((a, b) => a.number - b.number);
    const [current, ...extra] = mine;
    for (const e of extra) steps.push({ kind: 'remove-container', reason: 'scale', ...toExisting(e) });
    const wanted = serviceCreateSpec(project, service, current?.number ?? 1);
    if (!current) {
      steps.push({ kind: 'create', service: name, create: wanted });
      recreated.add(name);
      continue;
    }
    const built = opts.images?.get(name);
    const stale =
      current.labels[LABEL.configHash] !== wanted.configHash ||
      (built !== undefined && current.imageId !== undefined && current.imageId !== built);
    if (opts.forceRecreate || (stale && !opts.noRecreate)) {
      steps.push({ kind: 'recreate', create: wanted, ...toExisting(current) });
      recreated.add(name);
      continue;
    }
    const restartFor = Object.entries(service.depends_on).find(
      ([dep, d]) => d.restart && recreated.has(dep),
    )?.[0];
    if (restartFor !== undefined && RUNNING.has(current.state)) {
      steps.push({ kind: 'restart', because: restartFor, ...toExisting(current) });
    } else if (RUNNING.has(current.state)) {
      steps.push({ kind: 'keep', ...toExisting(current) });
    } else {
      steps.push({ kind: 'start', ...toExisting(current) });
    }
  }
  return { steps, orphans, warnings };
}

/** remove-container → Containers.Stop + Remove (v: anonymous volumes too); remove-network → Networks.Remove; remove-volume → Volumes.Remove. */
export type DownStep =
  /** stop (when running) and remove; `removeAnonymousVolumes` with -v */
  | ({ readonly kind: 'remove-container'; readonly removeAnonymousVolumes: boolean } & ExistingContainer)
  | { readonly kind: 'remove-network'; readonly key: string; readonly name: string }
  | { readonly kind: 'remove-volume'; readonly key: string; readonly name: string };

export interface DownOptions {
  /** -v: the project's named volumes and the containers' anonymous ones */
  readonly volumes?: boolean;
  readonly removeOrphans?: boolean;
}

export interface DownPlan {
  readonly steps: readonly DownStep[];
  readonly warnings: readonly string[];
}

export function planDown(
  project: ComposeProject,
  existing: ExistingResources,
  opts: DownOptions = {},
): DownPlan {
  const removeAnonymousVolumes = opts.volumes === true;
  const ours = projectContainers(project.name, existing.containers);
  const steps: DownStep[] = [];
  const warnings: string[] = [];
  const orphans = ours.filter((c) => !(c.service in project.services)).map(toExisting);
  if (opts.removeOrphans) {
    for (const o of orphans) steps.push({ kind: 'remove-container', removeAnonymousVolumes, ...o });
  } else if (orphans.length > 0) {
    warnings.push(
      `found orphan containers (${orphans.map((o) => o.name).join(', ')}) for this project; run with --remove-orphans to clean them up`,
    );
  }
  // dependents go first, so that nothing loses a dependency while it runs
  for (const name of [...dependencyOrder(project.services)].reverse()) {
    for (const c of ours.filter((o) => o.service === name)) {
      steps.push({ kind: 'remove-container', removeAnonymousVolumes, ...toExisting(c) });
    }
  }
  for (const key of Object.keys(project.networks).sort()) {
    const n = project.networks[key] as ComposeProject['networks'][string];
    if (n.external || !existing.networks.some((e) => e.name === n.name)) continue;
    steps.push({ kind: 'remove-network', key, name: n.name });
  }
  if (opts.volumes) {
    for (const key of Object.keys(project.volumes).sort()) {
      const v = project.volumes[key] as ComposeProject['volumes'][string];
      if (v.external || !existing.volumes.some((e) => e.name === v.name)) continue;
      steps.push({ kind: 'remove-volume', key, name: v.name });
    }
  }
  return { steps, warnings };
}

/**
 * Services in an order where each comes after what it depends on (ties in name order, so plans are
 * stable). A cycle is refused, naming it.
 */
export function dependencyOrder(services: ComposeProject['services']): string[] {
  const names = Object.keys(services).sort();
  const state = new Map<string, 'visiting' | 'done'>();
  const order: string[] = [];
  const visit = (name: string, trail: string[]): void => {
    const s = state.get(name);
    if (s === 'done') return;
    if (s === 'visiting') {
      const cycle = [...trail.slice(trail.indexOf(name)), name];
      throw new PlanError(`dependency cycle detected: ${cycle.join(' -> ')}`);
    }
    state.set(name, 'visiting');
    for (const dep of Object.keys(services[name]?.depends_on ?? {}).sort()) {
      if (dep in services) visit(dep, [...trail, name]);
    }
    state.set(name, 'done');
    order.push(name);
  };
  for (const n of names) visit(n, []);
  return order;
}

/** The named services and, transitively unless `noDeps`, what they depend on. */
function selectServices(
  project: ComposeProject,
  wanted: readonly string[] | undefined,
  noDeps: boolean,
): Set<string> {
  if (!wanted || wanted.length === 0) return new Set(Object.keys(project.services));
  const out = new Set<string>();
  const add = (name: string): void => {
    if (out.has(name)) return;
    const s = project.services[name];
    if (!s) throw new PlanError(`no such service: ${name}`);
    out.add(name);
    if (noDeps) return;
    for (const dep of Object.keys(s.depends_on)) if (dep in project.services) add(dep);
  };
  for (const w of wanted) add(w);
  return out;
}

interface ProjectContainer extends ContainerInfo {
  readonly service: string;
  readonly number: number;
}

/** The project's service containers (one-off `run` containers excluded), as Compose finds them: by label. */
function projectContainers(project: string, containers: readonly ContainerInfo[]): ProjectContainer[] {
  return containers
    .filter(
      (c) =>
        c.labels[LABEL.project] === project && c.labels[LABEL.oneoff] !== 'True' && c.labels[LABEL.service],
    )
    .map((c) => ({
      ...c,
      service: c.labels[LABEL.service] as string,
      number: Number(c.labels[LABEL.containerNumber] ?? '1') || 1,
    }));
}

function toExisting(c: ProjectContainer): ExistingContainer {
  const name = (c.names[0] ?? containerName('', c.service, c.number)).replace(/^\//, '');
  return { service: c.service, containerId: c.id, name };
}
