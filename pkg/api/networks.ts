// The Networks service: Docker's network verbs over the conf dir's conflists. Create/List/Inspect/Remove/
// Prune are the store's and the result cache's; Connect/Disconnect need a container, so the engine provides
// them (NetworkConnector); until it does they answer UNAVAILABLE.
import * as grpc from '@grpc/grpc-js';
import type { EventBus } from '../events/bus.ts';
import { CniExecError } from '../network/cni-exec.ts';
import { HostPortError } from '../network/host-ports.ts';
import { dockerNetworkInspect } from '../network/inspect.ts';
import type { CniNetworking, Endpoint } from '../network/networking.ts';
import {
  InvalidNetworkError,
  type Network,
  NetworkExistsError,
  NetworkNotFoundError,
  type NetworkStore,
} from '../network/store.ts';
import { AGENT_ERROR_METADATA } from './errors.ts';
import type { NetworkSummary } from './generated/tsnet/v1/NetworkSummary.ts';
import type { NetworksHandlers } from './generated/tsnet/v1/Networks.ts';

/** What the engine does for `network connect|disconnect` (it knows the container and its netns). */
export interface NetworkConnector {
  connect(
    container: string,
    network: string,
    opts: { aliases: string[]; ipv4Address?: string },
  ): Promise<void>;
  disconnect(container: string, network: string, opts: { force: boolean }): Promise<void>;
}

export interface NetworksDeps {
  readonly store: NetworkStore;
  readonly networking: CniNetworking;
  readonly events: EventBus;
  /** The engine's connector; undefined while no runtime serves containers. */
  connector(): NetworkConnector | undefined;
}

/** A network that containers still use cannot go (Docker's words). */
export class NetworkInUseError extends Error {
  override readonly name = 'NetworkInUseError';
  constructor(network: Network) {
    super(`error while removing network: network ${network.name} id ${network.id} has active endpoints`);
  }
}

class RuntimeUnavailableError extends Error {
  override readonly name = 'RuntimeUnavailableError';
}

class InvalidFilterError extends Error {
  override readonly name = 'InvalidFilterError';
}

export function networksHandlers(deps: NetworksDeps): NetworksHandlers {
  return {
    Create: unary(async (req) => {
      if (req.checkDuplicateOk) {
        const existing = (await deps.store.list()).find((n) => n.name === req.name);
        if (existing) return { id: existing.id, warnings: [] };
      }
      const network = await deps.store.create({
        name: req.name,
        driver: req.driver,
        pools: req.pools.map((p) => ({ subnet: p.subnet, gateway: p.gateway, ipRange: p.ipRange })),
        options: req.options,
        labels: req.labels,
        internal: req.internal,
      });
      deps.events.publish('network', 'create', network.id, { name: network.name, type: network.driver });
      return { id: network.id, warnings: [] };
    }),
    List: unary(async (req) => {
      const filters = parseFilters(req.filters, [
        'name',
        'id',
        'driver',
        'label',
        'scope',
        'type',
        'dangling',
      ]);
      const out: NetworkSummary[] = [];
      for (const n of await deps.store.list()) {
        const endpoints = await endpointsOf(deps, n);
        if (matches(n, endpoints, filters)) out.push(summaryOf(n, endpoints));
      }
      return { networks: out };
    }),
    Inspect: unary(async (req) => {
      const n = await deps.store.find(req.network);
      return { json: JSON.stringify(dockerNetworkInspect(n, await endpointsOf(deps, n))) };
    }),
    Remove: unary(async (req) => {
      const n = await deps.store.find(req.network);
      await removeNetwork(deps, n);
      return { id: n.id };
    }),
    Prune: unary(async (req) => {
      const filters = parseFilters(req.filters, ['label']);
      const deleted: string[] = [];
      for (const n of await deps.store.list()) {
        if (n.builtin || !matches(n, [], filters)) continue;
        if ((await endpointsOf(deps, n)).length > 0) continue;
        await removeNetwork(deps, n);
        deleted.push(n.name);
      }
      return { deleted };
    }),
    Connect: unary(async (req) => {
      await requireConnector(deps).connect(req.container, req.network, {
        aliases: req.aliases,
        ...(req.ipv4Address ? { ipv4Address: req.ipv4Address } : {}),
      });
      return {};
    }),
    Disconnect: unary(async (req) => {
      await requireConnector(deps).disconnect(req.container, req.network, { force: req.force });
      return {};
    }),
  };
}

async function endpointsOf(deps: NetworksDeps, n: Network): Promise<Endpoint[]> {
  return n.kind === 'cni' ? deps.networking.endpointsOf(n) : [];
}

async function removeNetwork(deps: NetworksDeps, n: Network): Promise<void> {
  if (n.builtin) throw new InvalidNetworkError(`${n.name} is a pre-defined network and cannot be removed`);
  if ((await endpointsOf(deps, n)).length > 0) throw new NetworkInUseError(n);
  await deps.networking.releaseNetwork(n);
  await deps.store.remove(n);
  deps.events.publish('network', 'destroy', n.id, { name: n.name, type: n.driver });
}

function requireConnector(deps: NetworksDeps): NetworkConnector {
  const c = deps.connector();
  if (!c) throw new RuntimeUnavailableError('the container runtime is not running on this agent');
  return c;
}

function summaryOf(n: Network, endpoints: readonly Endpoint[]): NetworkSummary {
  return {
    id: n.id,
    name: n.name,
    driver: n.driver,
    scope: n.scope,
    createdUnix: Math.floor(Date.parse(n.created) / 1000),
    pools: n.pools.map((p) => ({ subnet: p.subnet, gateway: p.gateway, ipRange: p.ipRange ?? '' })),
    labels: { ...n.labels },
    containers: endpoints.length,
  };
}

// ---- filters (`key=value`, Docker's network filters) ----

type Filters = Map<string, string[]>;

function parseFilters(raw: readonly string[], known: readonly string[]): Filters {
  const out: Filters = new Map();
  for (const f of raw) {
    const eq = f.indexOf('=');
    const key = eq < 0 ? f : f.slice(0, eq);
    if (!known.includes(key)) {
      throw new InvalidFilterError(`invalid filter '${key}': use ${known.join(', ')}`);
    }
    out.set(key, [...(out.get(key) ?? []), eq < 0 ? '' : f.slice(eq + 1)]);
  }
  return out;
}

function matches(n: Network, endpoints: readonly Endpoint[], filters: Filters): boolean {
  const any = (key: string, test: (value: string) => boolean) => {
    const values = filters.get(key);
    return values === undefined || values.some(test);
  };
  return (
    any('name', (v) => n.name.includes(v)) &&
    any('id', (v) => n.id.startsWith(v)) &&
    any('driver', (v) => n.driver === v) &&
    any('scope', (v) => n.scope === v) &&
    any('type', (v) => (v === 'builtin' ? n.builtin : v === 'custom' ? !n.builtin : false)) &&
    any('dangling', (v) => (v === 'true' || v === '1') === (endpoints.length === 0)) &&
    any('label', (v) => {
      const eq = v.indexOf('=');
      const key = eq < 0 ? v : v.slice(0, eq);
      return key in n.labels && (eq < 0 || n.labels[key] === v.slice(eq + 1));
    })
  );
}

// ---- plumbing ----

export function networkStatusOf(err: unknown): { code: grpc.status; details: string } {
  const details = ((err as Error)?.message ?? String(err)).replace(/\s*\n\s*/g, ' ').trim();
  if (err instanceof NetworkNotFoundError) return { code: grpc.status.NOT_FOUND, details };
  if (err instanceof NetworkExistsError || err instanceof NetworkInUseError) {
    return { code: grpc.status.FAILED_PRECONDITION, details };
  }
  if (
    err instanceof InvalidNetworkError ||
    err instanceof InvalidFilterError ||
    err instanceof HostPortError
  ) {
    return { code: grpc.status.INVALID_ARGUMENT, details };
  }
  if (err instanceof RuntimeUnavailableError) return { code: grpc.status.UNAVAILABLE, details };
  if (err instanceof CniExecError) return { code: grpc.status.INTERNAL, details };
  return { code: grpc.status.INTERNAL, details };
}

function unary<Req, Res>(fn: (request: Req) => Promise<Res>): grpc.handleUnaryCall<Req, Res> {
  return (call, callback) => {
    fn(call.request).then(
      (value) => callback(null, value),
      (err: unknown) => {
        const { code, details } = networkStatusOf(err);
        const metadata = new grpc.Metadata();
        metadata.set(AGENT_ERROR_METADATA, '1');
        callback(Object.assign(new Error(details), { code, details, metadata }));
      },
    );
  };
}
