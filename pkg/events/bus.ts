// What happens on the node (image pulled, container died, ...), for `tsnetctl events` and for services that
// react to each other. Recent events are kept in a ring so a subscriber can ask for the ones since a time.
export interface NodeEvent {
  /** image, container, network, volume, node. */
  type: string;
  action: string;
  id: string;
  attributes: Record<string, string>;
  timeUnixNano: bigint;
}

/** Docker's event filters: `key=value` pairs, values of one key OR-ed, keys AND-ed. */
export type EventFilter = Map<string, Set<string>>;

export class FilterError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FilterError';
  }
}

const FILTER_KEYS = new Set([
  'type',
  'action',
  'event',
  'id',
  'image',
  'container',
  'network',
  'volume',
  'label',
]);

export function parseEventFilters(filters: readonly string[]): EventFilter {
  const out: EventFilter = new Map();
  for (const f of filters) {
    const eq = f.indexOf('=');
    if (eq <= 0) throw new FilterError(`invalid filter ${JSON.stringify(f)}: expected key=value`);
    const key = f.slice(0, eq) === 'event' ? 'action' : f.slice(0, eq);
    if (!FILTER_KEYS.has(key)) throw new FilterError(`invalid filter key ${JSON.stringify(f.slice(0, eq))}`);
    const values = out.get(key) ?? new Set<string>();
    values.add(f.slice(eq + 1));
    out.set(key, values);
  }
  return out;
}

export function eventMatches(e: NodeEvent, filter: EventFilter): boolean {
  for (const [key, values] of filter) {
    const candidates =
      key === 'type'
        ? [e.type]
        : key === 'action'
          ? [e.action]
          : key === 'id' || key === e.type
            ? [e.id, e.attributes['name'] ?? '']
            : key === 'label'
              ? Object.entries(e.attributes).flatMap(([k, v]) => [k, `${k}=${v}`])
              : [e.attributes[key] ?? ''];
    if (!candidates.some((c) => values.has(c))) return false;
  }
  return true;
}

export class EventBus {
  private readonly ring: NodeEvent[] = [];
  private readonly subscribers = new Set<(e: NodeEvent) => void>();

  constructor(private readonly capacity = 1024) {}

  publish(type: string, action: string, id: string, attributes: Record<string, string> = {}): NodeEvent {
    const event: NodeEvent = { type, action, id, attributes, timeUnixNano: BigInt(Date.now()) * 1_000_000n };
    this.ring.push(event);
    if (this.ring.length > this.capacity) this.ring.shift();
    for (const s of this.subscribers) s(event);
    return event;
  }

  /**
   * Calls `onEvent` for the held events since `sinceUnixNano` (0: none), then for each new one matching,
   * until the returned function is called.
   */
  subscribe(filter: EventFilter, sinceUnixNano: bigint, onEvent: (e: NodeEvent) => void): () => void {
    if (sinceUnixNano > 0n) {
      for (const e of this.ring) if (e.timeUnixNano >= sinceUnixNano && eventMatches(e, filter)) onEvent(e);
    }
    const subscriber = (e: NodeEvent) => {
      if (eventMatches(e, filter)) onEvent(e);
    };
    this.subscribers.add(subscriber);
    return () => this.subscribers.delete(subscriber);
  }
}
