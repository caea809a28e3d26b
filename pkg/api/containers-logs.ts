// The Logs call: a container's log entries as `docker logs` selects them (streams, --tail, --since,
// --until), followed until the container's run ends when asked (-f), one LogEntry per line. Times go out
// as decimal strings: an int64 of Unix nanoseconds does not fit a JavaScript number.
import { once } from 'node:events';
import * as grpc from '@grpc/grpc-js';
import {
  type ContainerHandle,
  type ContainerLookup,
  ContainerNotFoundError,
  type ContainerStatus,
} from '../container/handle.ts';
import { readLogs } from '../logs/reader.ts';
import { AGENT_ERROR_METADATA } from './errors.ts';
import type { LogEntry } from './generated/tsnet/v1/LogEntry.ts';
import type { LogsRequest__Output } from './generated/tsnet/v1/LogsRequest.ts';

class BadLogsRequestError extends Error {
  override readonly name = 'BadLogsRequestError';
}

/** States in which conmon may still write: following waits for the run to end. */
const WRITING: ReadonlySet<ContainerStatus> = new Set(['running', 'paused', 'restarting']);

export function logsHandler(
  lookup: ContainerLookup,
): grpc.handleServerStreamingCall<LogsRequest__Output, LogEntry> {
  return (call) => {
    const aborted = new AbortController();
    call.on('cancelled', () => aborted.abort());
    streamLogs(lookup, call, aborted.signal).then(
      () => call.end(),
      (err: unknown) => call.emit('error', errorStatus(err)),
    );
  };
}

async function streamLogs(
  lookup: ContainerLookup,
  call: grpc.ServerWritableStream<LogsRequest__Output, LogEntry>,
  signal: AbortSignal,
): Promise<void> {
  const req = call.request;
  if (!req.stdout && !req.stderr) throw new BadLogsRequestError('you must choose at least one stream');
  const since = nanosOf(req.sinceUnixNano);
  const until = nanosOf(req.untilUnixNano);
  if (since !== undefined && until !== undefined && until < since)
    throw new BadLogsRequestError('--until is before --since');
  const container = await lookup.get(req.container);
  const entries = readLogs(container.logPath, {
    stdout: req.stdout,
    stderr: req.stderr,
    tail: req.tail < 0 ? undefined : req.tail,
    since,
    until,
    follow: req.follow,
    stopped: req.follow ? runEnded(lookup, container) : undefined,
    signal,
  });
  for await (const entry of entries) {
    if (signal.aborted) return;
    const message: LogEntry = {
      stream: entry.stream,
      timeUnixNano: entry.timeNs.toString(),
      data: entry.data,
    };
    if (!call.write(message)) await once(call, 'drain', { signal }).catch(() => undefined);
  }
}

/** Resolves when conmon can write no more: at once unless the container runs. */
function runEnded(lookup: ContainerLookup, container: ContainerHandle): Promise<unknown> {
  if (!WRITING.has(container.status)) return Promise.resolve();
  // a failed wait (the container removed meanwhile) also ends the following
  return lookup.waitExit(container.id).catch(() => undefined);
}

function nanosOf(value: number): bigint | undefined {
  if (!Number.isFinite(value) || value <= 0) return undefined;
  return BigInt(Math.trunc(value));
}

function errorStatus(err: unknown): grpc.ServerErrorResponse {
  const details = ((err as Error)?.message ?? String(err)).replace(/\s*\n\s*/g, ' ').trim();
  const code =
    err instanceof ContainerNotFoundError
      ? grpc.status.NOT_FOUND
      : err instanceof BadLogsRequestError
        ? grpc.status.INVALID_ARGUMENT
        : grpc.status.INTERNAL;
  const metadata = new grpc.Metadata();
  metadata.set(AGENT_ERROR_METADATA, '1');
  return Object.assign(new Error(details), { code, details, metadata });
}
