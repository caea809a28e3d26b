// The Logs call over a real gRPC server on a unix socket, for a fixture container: tail and stream
// selection, following until the container's run ends, and the errors (unknown container, no stream).
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import test from 'ava';
import { logsHandler } from '../../pkg/api/containers-logs.ts';
import type { ContainersClient } from '../../pkg/api/generated/tsnet/v1/Containers.ts';
import type { LogEntry__Output } from '../../pkg/api/generated/tsnet/v1/LogEntry.ts';
import type { LogsRequest } from '../../pkg/api/generated/tsnet/v1/LogsRequest.ts';
import { api } from '../../pkg/api/proto.ts';
import {
  type ContainerHandle,
  type ContainerLookup,
  ContainerNotFoundError,
} from '../../pkg/container/handle.ts';
import { withTempDir } from '../helpers/tmp.ts';
import { numberedRecords, record, T0, writeRecords } from '../logs/log-files.ts';

interface Fixture {
  client: ContainersClient;
  logPath: string;
  exit: () => void;
}

async function withLogsServer(fn: (f: Fixture) => Promise<void>): Promise<void> {
  await withTempDir(async (dir) => {
    const logPath = join(dir, 'ctr.log');
    let exit: () => void = () => undefined;
    const exited = new Promise<{ exitCode: number; oomKilled: boolean }>((resolve) => {
      exit = () => resolve({ exitCode: 0, oomKilled: false });
    });
    const container = { id: 'c0ffee', name: 'web', status: 'running', logPath } as ContainerHandle;
    const lookup: ContainerLookup = {
      beforeNextStart: () => () => undefined,
      get: async (ref) => {
        if (ref !== 'web' && ref !== 'c0ffee') throw new ContainerNotFoundError(ref);
        return container;
      },
      waitExit: () => exited,
    };
    const server = new grpc.Server();
    server.addService(api().Containers.service, { Logs: logsHandler(lookup) });
    const address = `unix:${join(dir, 'api.sock')}`;
    await new Promise<void>((resolve, reject) =>
      server.bindAsync(address, grpc.ServerCredentials.createInsecure(), (err) =>
        err ? reject(err) : resolve(),
      ),
    );
    const client = new (api().Containers)(address, grpc.credentials.createInsecure());
    try {
      await fn({ client, logPath, exit });
    } finally {
      exit();
      client.close();
      server.forceShutdown();
    }
  });
}

function logs(
  client: ContainersClient,
  req: LogsRequest,
  onEntry?: (e: LogEntry__Output, all: LogEntry__Output[]) => void,
): Promise<LogEntry__Output[]> {
  return new Promise((resolve, reject) => {
    const out: LogEntry__Output[] = [];
    const stream = client.logs(req);
    stream.on('data', (e: LogEntry__Output) => {
      out.push(e);
      onEntry?.(e, out);
    });
    stream.on('error', reject);
    stream.on('end', () => resolve(out));
  });
}

const both = { stdout: true, stderr: true, tail: -1 };

test('Logs answers the selected entries with their stream and time', async (t) => {
  await withLogsServer(async ({ client, logPath }) => {
    writeRecords(logPath, numberedRecords(10));
    const last = await logs(client, { container: 'web', ...both, tail: 3 });
    t.deepEqual(
      last.map((e) => [e.stream, e.data.toString()]),
      [
        ['stderr', 'line 7\n'],
        ['stdout', 'line 8\n'],
        ['stderr', 'line 9\n'],
      ],
    );
    // int64 nanoseconds: this client reads them as doubles, so compare at a double's precision
    t.is(last[2]?.timeUnixNano, Number(T0 + 9000n));
    const since = await logs(client, {
      container: 'c0ffee',
      stdout: true,
      stderr: false,
      tail: -1,
      sinceUnixNano: (T0 + 6000n).toString(),
    });
    t.deepEqual(
      since.map((e) => e.data.toString()),
      ['line 6\n', 'line 8\n'],
    );
  });
});

test('Logs with follow streams new lines and ends when the container exits', async (t) => {
  await withLogsServer(async ({ client, logPath, exit }) => {
    writeRecords(logPath, numberedRecords(2));
    const got = await logs(client, { container: 'web', ...both, follow: true }, (_e, all) => {
      if (all.length === 2) writeRecords(logPath, [record('stdout', T0 + 5000n, 'later')], true);
      if (all.length === 3) exit();
    });
    t.deepEqual(
      got.map((e) => e.data.toString()),
      ['line 0\n', 'line 1\n', 'later\n'],
    );
  });
});

test('Logs refuses an unknown container and a request for no stream', async (t) => {
  await withLogsServer(async ({ client }) => {
    const missing = await t.throwsAsync(logs(client, { container: 'nope', ...both }));
    t.is((missing as grpc.ServiceError).code, grpc.status.NOT_FOUND);
    t.regex(missing?.message ?? '', /No such container: nope/);
    const none = await t.throwsAsync(logs(client, { container: 'web', tail: -1 }));
    t.is((none as grpc.ServiceError).code, grpc.status.INVALID_ARGUMENT);
    t.regex(none?.message ?? '', /at least one stream/);
  });
});
