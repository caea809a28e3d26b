// The embedded store's state in memory and the changes one transaction makes to it. A transaction's changes are
// recorded as a list of primitive operations; the writer applies them as it goes and the journal carries them,
// so another process replays exactly what the writer did (applyRecord) instead of re-deriving it.
//
// Keys and lease IDs are user data: they live in Maps, never as object property names (a key called
// `constructor` or `__proto__` is an ordinary key here).

import type { KeyValue, WatchEvent } from './index.ts';
import { StoreError } from './index.ts';

export interface StoredKey {
  value: string;
  createRevision: number;
  modRevision: number;
  lease?: string;
}

export interface StoredLease {
  ttl: number;
  expiresAt: number;
}

export type StoredEvent = Exclude<WatchEvent, { type: 'resync' }>;

export interface State {
  /** Identity of this store: a different one means the files were replaced underneath. */
  id: string;
  /** Snapshots written of this store so far; absent in files written by tsnet before the journal. */
  generation?: number;
  revision: number;
  compactRevision: number;
  nextLease: number;
  keys: Map<string, StoredKey>;
  leases: Map<string, StoredLease>;
  history: StoredEvent[];
}

/** One primitive change. A put or delete takes the record's revision as its modRevision. */
export type Op =
  | { op: 'put'; key: string; value: string; createRevision: number; lease?: string }
  | { op: 'delete'; key: string }
  | { op: 'lease'; id: string; ttl: number; expiresAt: number }
  | { op: 'unlease'; id: string };

/** What one transaction did, as the journal stores it: its operations and the counters after them. */
export interface JournalRecord {
  revision: number;
  nextLease: number;
  compactRevision: number;
  ops: Op[];
}

export function emptyState(id: string): State {
  return {
    id,
    revision: 1,
    compactRevision: 0,
    nextLease: 1,
    keys: new Map(),
    leases: new Map(),
    history: [],
  };
}

function applyOp(s: State, op: Op, revision: number): void {
  switch (op.op) {
    case 'put': {
      const stored: StoredKey = {
        value: op.value,
        createRevision: op.createRevision,
        modRevision: revision,
        ...(op.lease !== undefined ? { lease: op.lease } : {}),
      };
      s.keys.set(op.key, stored);
      s.history.push({
        type: 'put',
        key: op.key,
        value: op.value,
        modRevision: revision,
        createRevision: op.createRevision,
        ...(op.lease !== undefined ? { lease: op.lease } : {}),
      });
      return;
    }
    case 'delete':
      s.keys.delete(op.key);
      s.history.push({ type: 'delete', key: op.key, modRevision: revision });
      return;
    case 'lease':
      s.leases.set(op.id, { ttl: op.ttl, expiresAt: op.expiresAt });
      return;
    case 'unlease':
      s.leases.delete(op.id);
      return;
  }
}

/** Drops history before `revision`: watches from older revisions must resync. */
function compactHistory(s: State, revision: number): void {
  if (revision <= s.compactRevision) return;
  s.compactRevision = revision;
  // History is in revision order: what goes is a prefix.
  let drop = 0;
  while (drop < s.history.length && (s.history[drop]?.modRevision ?? revision) < revision) drop++;
  s.history.splice(0, drop);
}

/** Replays a record written by any handle: the same result as the writer's, whatever this handle's limits. */
export function applyRecord(s: State, record: JournalRecord): void {
  for (const op of record.ops) applyOp(s, op, record.revision);
  s.revision = record.revision;
  s.nextLease = record.nextLease;
  compactHistory(s, record.compactRevision);
}

/** Mutations of one transaction: all changes of one call share one new revision, as in an etcd txn. */
export class Writer {
  private readonly ops: Op[] = [];
  private touched = false;
  private bumped = false;
  constructor(
    private readonly s: State,
    private readonly historyLimit: number,
  ) {}

  /** Whether the transaction has anything to write. */
  get dirty(): boolean {
    return this.touched || this.ops.length > 0;
  }

  /** Forces a write without a change (a new store gets its files at once). */
  touch(): void {
    this.touched = true;
  }

  /** The record of what was done, for the journal. */
  record(): JournalRecord {
    return {
      revision: this.s.revision,
      nextLease: this.s.nextLease,
      compactRevision: this.s.compactRevision,
      ops: this.ops,
    };
  }

  put(key: string, value: string, lease: string | undefined): void {
    if (lease !== undefined && !this.s.leases.has(lease)) {
      throw new StoreError('lease-not-found', 'put', `lease ${lease} expired or was revoked`, { key });
    }
    const rev = this.bump();
    const createRevision = this.s.keys.get(key)?.createRevision ?? rev;
    this.apply({ op: 'put', key, value, createRevision, ...(lease !== undefined ? { lease } : {}) });
  }

  delete(keys: string[]): void {
    if (keys.length === 0) return;
    this.bump();
    for (const key of keys) this.apply({ op: 'delete', key });
  }

  /** Grants or renews a lease. */
  setLease(id: string, ttl: number, expiresAt: number): void {
    this.apply({ op: 'lease', id, ttl, expiresAt });
  }

  allocateLeaseId(): string {
    const id = String(this.s.nextLease);
    this.s.nextLease += 1;
    this.touched = true;
    return id;
  }

  /** Ends leases and deletes every key bound to them. */
  revoke(ids: string[]): void {
    if (ids.length === 0) return;
    for (const id of ids) this.apply({ op: 'unlease', id });
    const gone = new Set(ids);
    const bound: string[] = [];
    for (const [key, k] of this.s.keys) if (k.lease !== undefined && gone.has(k.lease)) bound.push(key);
    this.delete(bound);
  }

  compact(revision: number): void {
    if (revision <= this.s.compactRevision) return;
    compactHistory(this.s, revision);
    this.touched = true;
  }

  private apply(op: Op): void {
    applyOp(this.s, op, this.s.revision);
    this.ops.push(op);
    this.trimHistory();
  }

  private bump(): number {
    if (!this.bumped) {
      this.s.revision += 1;
      this.bumped = true;
    }
    return this.s.revision;
  }

  private trimHistory(): void {
    const excess = this.s.history.length - this.historyLimit;
    if (excess <= 0) return;
    // Never keep part of a revision: everything up to the last dropped event's revision counts as compacted.
    const lastDropped = this.s.history[excess - 1]?.modRevision ?? 0;
    compactHistory(this.s, lastDropped + 1);
  }
}

export function toKeyValue(key: string, k: StoredKey): KeyValue {
  return {
    key,
    value: k.value,
    createRevision: k.createRevision,
    modRevision: k.modRevision,
    ...(k.lease !== undefined ? { lease: k.lease } : {}),
  };
}

/**
 * The snapshot file's text. Keys and leases are lists of [key, record] pairs, never object members, so any
 * string survives the round trip. Identity and generation come first, for a human reading the file.
 */
export function serializeSnapshot(s: State): string {
  return JSON.stringify({
    id: s.id,
    generation: s.generation,
    revision: s.revision,
    compactRevision: s.compactRevision,
    nextLease: s.nextLease,
    keys: [...s.keys],
    leases: [...s.leases],
    history: s.history,
  });
}

/**
 * Parses a snapshot, or a whole store file written by tsnet before the journal (keys and leases as object
 * members: JSON.parse makes every member, `__proto__` too, an own property, so Object.entries sees them all).
 */
export function parseSnapshot(text: string): State {
  const raw = JSON.parse(text) as Record<string, unknown>;
  if (
    typeof raw.id !== 'string' ||
    typeof raw.revision !== 'number' ||
    typeof raw.compactRevision !== 'number' ||
    typeof raw.nextLease !== 'number' ||
    typeof raw.keys !== 'object' ||
    raw.keys === null ||
    typeof raw.leases !== 'object' ||
    raw.leases === null ||
    !Array.isArray(raw.history)
  ) {
    throw new Error('not a tsnet store file');
  }
  const entries = <T>(v: object): [string, T][] =>
    Array.isArray(v) ? (v as [string, T][]) : (Object.entries(v) as [string, T][]);
  return {
    id: raw.id,
    ...(typeof raw.generation === 'number' ? { generation: raw.generation } : {}),
    revision: raw.revision,
    compactRevision: raw.compactRevision,
    nextLease: raw.nextLease,
    keys: new Map(entries<StoredKey>(raw.keys)),
    leases: new Map(entries<StoredLease>(raw.leases)),
    history: raw.history as StoredEvent[],
  };
}
