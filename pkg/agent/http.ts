// The agent's small HTTP server (fastify): /healthz (readiness), /livez and Prometheus /metrics, over the
// health and registry the supervisor aggregates from every service.
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

/** fastify is loaded here, not at the agent's start: an agent run with `--http ''` never holds it (~15 MiB). */
export async function buildHttpApp(status: AgentStatus): Promise<FastifyInstance> {
  const { default: Fastify } = await import('fastify');
  const app = Fastify({ logger: false });
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
  return app;
}

export class HttpService implements Service {
  readonly name = 'http';
  private readonly listen: ListenAddress;
  private app: FastifyInstance | undefined;

  constructor(listen: ListenAddress) {
    this.listen = listen;
  }

  async start(ctx: StartContext): Promise<void> {
    const app = await buildHttpApp(ctx.status);
    this.app = app;
    try {
      await app.listen({ host: this.listen.host, port: this.listen.port });
    } catch (err) {
      throw listenError(this.listen, err);
    }
    ctx.log.info({ listen: `${this.listen.host}:${this.listen.port}` }, 'http server listening');
  }

  async stop(): Promise<void> {
    await this.app?.close();
  }

  health(): ServiceHealth {
    return { ready: this.app?.server.listening ?? false };
  }
}
