// Test helpers for k8s-file logs: records written as conmon writes them, and a file system that counts
// the bytes a query reads.
import { appendFileSync, writeFileSync } from 'node:fs';
import { type LogFileSystem, nodeLogFileSystem } from '../../pkg/logs/files.ts';
import { formatLogRecord, type LogEntry, type LogRecord, type LogStream } from '../../pkg/logs/k8s-file.ts';

export const T0 = 1_780_000_000_000_000_000n;

export function record(stream: LogStream, timeNs: bigint, text: string, partial = false): LogRecord {
  return { stream, timeNs, partial, text: Buffer.from(text) };
}

export function writeRecords(path: string, records: readonly LogRecord[], append = false): void {
  const data = Buffer.concat(records.map((r) => formatLogRecord(r)));
  if (append) appendFileSync(path, data);
  else writeFileSync(path, data);
}

/** `count` one-line entries, stdout and stderr alternating, 1 µs apart from `first`. */
export function numberedRecords(count: number, first = 0, t0 = T0): LogRecord[] {
  const out: LogRecord[] = [];
  for (let i = first; i < first + count; i++)
    out.push(record(i % 2 ? 'stderr' : 'stdout', t0 + BigInt(i) * 1000n, `line ${i}`));
  return out;
}

export function texts(entries: readonly LogEntry[]): string[] {
  return entries.map((e) => e.data.toString());
}

export async function collect(iterable: AsyncIterable<LogEntry>): Promise<LogEntry[]> {
  const out: LogEntry[] = [];
  for await (const entry of iterable) out.push(entry);
  return out;
}

/** The node file system, calling `afterRead` with the byte count of each read. */
export function observedFs(afterRead: (bytes: number) => void): LogFileSystem {
  return {
    ...nodeLogFileSystem,
    async open(path) {
      const file = await nodeLogFileSystem.open(path);
      return {
        ...file,
        read: async (buffer, position) => {
          const n = await file.read(buffer, position);
          afterRead(n);
          return n;
        },
      };
    },
  };
}

/** The node file system, counting what is read. */
export function countingFs(): { fs: LogFileSystem; bytesRead: () => number } {
  let total = 0;
  const fs = observedFs((n) => {
    total += n;
  });
  return { fs, bytesRead: () => total };
}
