// `tsnetctl compose config`: the normalized project as YAML, in Compose's field names (durations as Go
// durations, limits under deploy.resources.limits), so what tsnet will run can be read and diffed.
import { stringify } from 'yaml';
import { formatGoDuration } from '../time/go-duration.ts';
import type { ComposeProject, ServiceConfig } from './model.ts';

export function projectConfigYaml(project: ComposeProject): string {
  const services = Object.fromEntries(
    Object.keys(project.services)
      .sort()
      .map((name) => [name, serviceForOutput(project.services[name] as ServiceConfig)]),
  );
  return stringify(
    compact({ name: project.name, services, networks: project.networks, volumes: project.volumes }),
    { sortMapEntries: false, lineWidth: 0 },
  );
}

function serviceForOutput(s: ServiceConfig): Record<string, unknown> {
  const { name: _name, limits, healthcheck, ...rest } = s;
  const out: Record<string, unknown> = { ...rest };
  if (healthcheck) {
    const h: Record<string, unknown> = { ...healthcheck };
    for (const k of ['interval', 'timeout', 'start_period', 'start_interval'] as const) {
      const v = healthcheck[k];
      if (v !== undefined) h[k] = formatGoDuration(v);
    }
    out.healthcheck = h;
  }
  if (limits.memory !== undefined || limits.cpus !== undefined) out.deploy = { resources: { limits } };
  return out;
}

/** Flags whose false is the default, left out as Compose leaves them out. */
const DEFAULT_FALSE = new Set(['external', 'internal', 'read_only', 'disable', 'restart', 'nocopy']);
/** An empty list that means something: `entrypoint: []` clears the image's. */
const MEANINGFUL_EMPTY = new Set(['command', 'entrypoint']);

/** Drops empty lists and maps and default flags, recursively, for a readable output. */
function compact(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(compact);
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    const c = compact(v);
    if (c === false && DEFAULT_FALSE.has(k)) continue;
    if (!MEANINGFUL_EMPTY.has(k) && c !== null && typeof c === 'object' && Object.keys(c).length === 0)
      continue;
    out[k] = c;
  }
  return out;
}
