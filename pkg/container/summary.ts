// `docker ps`: the status line of a container ("Up 3 seconds", "Exited (0) 2 minutes ago") and the
// --filter keys (id, name, label, status, ancestor, exited, before, since, network, volume, health).
import { humanDuration } from '../ctl/format/units.ts';
import type { ContainerStatus } from './handle.ts';
import { healthSuffix } from './health.ts';
import type { ContainerRecord } from './record.ts';

export class FilterError extends Error {
  override name = 'FilterError';
}

function since(time: string, now: number): string {
  return humanDuration(Math.max(0, now - Date.parse(time)));
}

/** ps's STATUS column. */
export function statusLine(record: ContainerRecord, now = Date.now()): string {
  const s = record.state;
  switch (s.status) {
    case 'created':
      return 'Created';
    case 'running':
      return `Up ${since(s.startedAt, now)}${healthSuffix(s.health)}`;
    case 'paused':
      return `Up ${since(s.startedAt, now)} (Paused)`;
    case 'restarting':
      return `Restarting (${s.exitCode}) ${since(s.finishedAt, now)} ago`;
    case 'removing':
      return 'Removal In Progress';
    case 'dead':
      return 'Dead';
    case 'exited':
      return s.startedAt.startsWith('0001-')
        ? 'Created'
        : `Exited (${s.exitCode}) ${since(s.finishedAt, now)} ago`;
  }
}

const KEYS = new Set([
  'id',
  'name',
  'label',
  'status',
  'ancestor',
  'exited',
  'before',
  'since',
  'network',
  'volume',
  'health',
]);
/** `--filter health=`: a check's status, or none for a container without one (Docker's values). */
const HEALTH_VALUES = new Set(['starting', 'healthy', 'unhealthy', 'none']);
const STATUSES = new Set<ContainerStatus>([
  'created',
  'restarting',
  'running',
  'removing',
  'paused',
  'exited',
  'dead',
]);

export type ContainerFilters = Map<string, string[]>;

export function parseContainerFilters(args: readonly string[]): ContainerFilters {
  const out: ContainerFilters = new Map();
  for (const f of args) {
    const eq = f.indexOf('=');
    const key = eq > 0 ? f.slice(0, eq) : '';
    if (!KEYS.has(key))
      throw new FilterError(
        `invalid filter ${JSON.stringify(f)}: expected key=value with key one of ${[...KEYS].join(', ')}`,
      );
    const value = f.slice(eq + 1);
    if (key === 'status' && !STATUSES.has(value as ContainerStatus))
      throw new FilterError(`invalid filter 'status=${value}': expected one of ${[...STATUSES].join(', ')}`);
    if (key === 'exited' && !/^-?\d+$/.test(value))
      throw new FilterError(`invalid filter 'exited=${value}': expected an exit code`);
    if (key === 'health' && !HEALTH_VALUES.has(value))
      throw new FilterError(
        `invalid filter 'health=${value}': expected one of ${[...HEALTH_VALUES].join(', ')}`,
      );
    out.set(key, [...(out.get(key) ?? []), value]);
  }
  return out;
}

export interface FilterContext {
  /** finds a container by ID, name or prefix (before/since) */
  find(ref: string): ContainerRecord;
  /** whether the record's image is the one `ancestor` names */
  isAncestor(record: ContainerRecord, ancestor: string): boolean;
}

function labelMatches(labels: Readonly<Record<string, string>>, want: string): boolean {
  const eq = want.indexOf('=');
  return eq < 0 ? want in labels : labels[want.slice(0, eq)] === want.slice(eq + 1);
}

/** Values of one key are OR-ed, keys AND-ed (labels: every one must hold, as in Docker). */
export function matchesFilters(
  record: ContainerRecord,
  filters: ContainerFilters,
  ctx: FilterContext,
): boolean {
  for (const [key, values] of filters) {
    const ok = (() => {
      switch (key) {
        case 'id':
          return values.some((v) => record.id.startsWith(v));
        case 'name':
          return values.some((v) => new RegExp(v.replace(/^\//, '')).test(record.name));
        case 'label':
          return values.every((v) => labelMatches(record.config.labels, v));
        case 'status':
          return values.includes(record.state.status);
        case 'ancestor':
          return values.some((v) => ctx.isAncestor(record, v));
        case 'exited':
          return record.state.status === 'exited' && values.some((v) => Number(v) === record.state.exitCode);
        case 'before':
          return values.every((v) => record.created < ctx.find(v).created);
        case 'since':
          return values.every((v) => record.created > ctx.find(v).created);
        case 'network':
          return values.some(
            (v) => record.networkNames.includes(v) || record.networks.some((n) => n.networkId.startsWith(v)),
          );
        case 'volume':
          return values.some((v) =>
            record.mounts.some((m) => m.Name === v || m.Destination === v || m.Source === v),
          );
        case 'health':
          return values.includes(record.state.health?.status ?? 'none');
        default:
          return true;
      }
    })();
    if (!ok) return false;
  }
  return true;
}
