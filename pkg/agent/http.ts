// The agent's small HTTP server (fastify): /healthz (readiness), /livez and Prometheus /metrics, over the
// health and registry the supervisor aggregates from every service.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { FastifyInstance } from 'fastify';
import type { ListenAddress } from '../cli/command-line.ts';
import type { AgentStatus, Service, ServiceHealth, StartContext } from './service.ts';

/** Why a listen failed, in the operator's words (the flag and what the kernel said). */
function listenError(listen: ListenAddress, err: unknown): Error {
  const code = (err as NodeJS.ErrnoException).code;
  const where = `${listen.host.includes(':') ? `[${listen.host}]` : listen.host}:${listen.port}`;
  const why =
    code === 'EADDRINUSE'
      ? 'address already in use'
      : code === 'EADDRNOTAVAIL'
        ? 'no such local address'
        : code === 'EACCES'
          ? 'permission denied'
          : code === 'ENOTFOUND' || code === 'EAI_AGAIN'
            ? 'unknown host'
            : (err as Error).message;
  return new Error(`cannot listen on --http ${where}: ${why}`, { cause: err });
}

/**
 * fastify is loaded here, not at the agent's start: an agent run with `--http ''` never holds it (~15 MiB).
 * With `server`, the app serves on that server (already listening) instead of making its own.
 */
export async function buildHttpApp(
  status: AgentStatus,
  server?: HttpListener,
): Promise<{ app: FastifyInstance; handler?: (req: IncomingMessage, res: ServerResponse) => void }> {
  const { default: Fastify } = await import('fastify');
  let handler: ((req: IncomingMessage, res: ServerResponse) => void) | undefined;
  const app = server
    ? Fastify({
        logger: false,
        serverFactory: (h) => {
          handler = h;
          return server.server;
        },
      })
    : Fastify({ logger: false });
  // Liveness: the process answers. Readiness (/healthz) can be false for long (etcd down past the lease TTL)
  // without the agent being stuck, and restarting it then would not help.
  app.get('/livez', async (_req, reply) => {
    const { live } = status.health();
    return reply.code(live ? 200 : 503).send({ alive: live });
  });
  app.get('/healthz', async (_req, reply) => {
    const h = status.health();
    return reply.code(h.healthy ? 200 : 503).send(h);
  });
  app.get('/metrics', async (_req, reply) => {
    return reply.header('content-type', status.registry.contentType).send(await status.registry.metrics());
  });
  return { app, ...(handler && { handler }) };
}

/** What the listener answers until the app is attached: the agent is up and starting. */
function starting(_req: IncomingMessage, res: ServerResponse): void {
  res.writeHead(503, { 'content-type': 'application/json', 'retry-after': '1' });
  res.end('{"starting":true}');
}

/**
 * The --http socket, bound as the agent's first step: an address in use or not local is refused before
 * anything is created, and without loading fastify, which the HTTP service does later, beside the rest.
 * Until then every request is answered 503 (starting).
 */
export class HttpListener implements Service {
  readonly name = 'http';
  readonly server = createServer(starting);
  readonly listen: ListenAddress;
  private closeApp: (() => Promise<void>) | undefined;

  constructor(listen: ListenAddress) {
    this.listen = listen;
  }

  async start(): Promise<void> {
    try {
      await new Promise<void>((resolve, reject) => {
        this.server.once('error', reject);
        this.server.listen(this.listen.port, this.listen.host, () => {
          this.server.off('error', reject);
          resolve();
        });
      });
    } catch (err) {
      throw listenError(this.listen, err);
    }
  }

  /**
   * From now on requests go to `handler` (the app); `closeApp` runs when the listener stops. The listener
   * starts first and so stops last: /livez and /metrics answer through the whole of the agent's stop.
   */
  attach(handler: (req: IncomingMessage, res: ServerResponse) => void, closeApp: () => Promise<void>): void {
    this.server.off('request', starting);
    this.server.on('request', handler);
    this.closeApp = closeApp;
  }

  async stop(): Promise<void> {
    if (this.server.listening) {
      const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
      this.server.closeAllConnections();
      await closed;
    }
    await this.closeApp?.();
    this.closeApp = undefined;
  }

  health(): ServiceHealth {
    return { ready: this.server.listening };
  }
}

/** /livez, /healthz and /metrics: fastify on the listener's socket. */
export class HttpService implements Service {
  readonly name = 'http-endpoints';
  readonly dependsOn: readonly Service[];
  private readonly listener: HttpListener;
  private app: FastifyInstance | undefined;

  constructor(listener: HttpListener) {
    this.listener = listener;
    this.dependsOn = [listener];
  }

  async start(ctx: StartContext): Promise<void> {
    const { app, handler } = await buildHttpApp(ctx.status, this.listener);
    this.app = app;
    try {
      await app.ready();
    } catch (err) {
      await app.close().catch(() => undefined);
      throw err;
    }
    if (handler) this.listener.attach(handler, () => app.close());
    const { host, port } = this.listener.listen;
    ctx.log.info({ listen: `${host}:${port}` }, 'http server listening');
  }

  /** Nothing yet: the app keeps answering until the listener, stopped last, closes it with the socket. */
  async stop(): Promise<void> {}

  health(): ServiceHealth {
    return { ready: this.app !== undefined && this.listener.server.listening };
  }
}
