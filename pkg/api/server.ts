// The agent's API: gRPC over a unix socket. Connections are accepted here, not by grpc-js, so each peer is
// checked (SO_PEERCRED) before a byte of HTTP/2 is read, then handed to the gRPC server. The socket is 0660
// root:tsnet when the tsnet group exists, else 0600 root.
import { rm } from 'node:fs/promises';
import { createServer, type Socket } from 'node:net';
import { isAbsolute } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { type Logger, silentLogger } from '../log/index.ts';
import { listenUnix } from '../unixsock/listen.ts';
import { peerCredentialsOf } from '../unixsock/peer.ts';
import { API_GROUP, groupId, refusalOf } from './access.ts';

export const DEFAULT_API_SOCKET = '/run/tsnet/tsnet.sock';
const SHUTDOWN_GRACE_MS = 2000;

export interface ApiServerOptions {
  path: string;
  /** Service definitions with their handlers, e.g. [api().System.service, systemHandlers]. */
  services: [grpc.ServiceDefinition, grpc.UntypedServiceImplementation][];
  logger?: Logger;
  /** The group allowed besides root (default tsnet); tests point it elsewhere. */
  group?: string;
  groupFile?: string;
}

export interface ApiServer {
  readonly path: string;
  close(): Promise<void>;
}

export async function startApiServer(options: ApiServerOptions): Promise<ApiServer> {
  const { path } = options;
  const log = options.logger ?? silentLogger;
  if (!isAbsolute(path)) throw new Error(`API socket ${JSON.stringify(path)}: expected an absolute path`);
  const groupName = options.group ?? API_GROUP;
  const gid = groupId(groupName, options.groupFile);

  const grpcServer = new grpc.Server({
    'grpc.max_receive_message_length': 64 << 20,
    interceptors: [callTimer(log)],
  });
  for (const [definition, handlers] of options.services) grpcServer.addService(definition, handlers);
  const injector = grpcServer.createConnectionInjector(grpc.ServerCredentials.createInsecure());

  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    let refusal: string | undefined;
    try {
      refusal = refusalOf(peerCredentialsOf(socket), gid);
    } catch (err) {
      refusal = `peer credentials unavailable: ${(err as Error).message}`;
    }
    if (refusal) {
      log.warn({ socket: path, reason: refusal }, 'API connection refused');
      socket.destroy();
      return;
    }
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    injector.injectConnection(socket);
  });

  await listenUnix(
    server,
    path,
    gid !== undefined ? { what: 'API socket', gid, mode: 0o660 } : { what: 'API socket' },
  );
  log.info({ socket: path, group: gid !== undefined ? groupName : undefined }, 'API listening');

  return {
    path,
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      // Calls in flight get a moment to finish; streams that never end (events, logs -f) are cut.
      await Promise.race([
        new Promise<void>((resolve) => grpcServer.tryShutdown(() => resolve())),
        new Promise<void>((resolve) => setTimeout(resolve, SHUTDOWN_GRACE_MS).unref()),
      ]);
      grpcServer.forceShutdown();
      for (const s of sockets) s.destroy();
      await closed;
      await rm(path, { force: true });
    },
  };
}

/** Each call's method, status and duration (from its arrival to its status), logged at debug level. */
function callTimer(log: Logger): grpc.ServerInterceptor {
  return (method, call) => {
    const started = performance.now();
    return new grpc.ServerInterceptingCall(call, {
      sendStatus(status, next) {
        const ms = Math.round((performance.now() - started) * 10) / 10;
        log.debug({ method: method.path, code: status.code, ms }, 'API call');
        next(status);
      },
    });
  };
}
