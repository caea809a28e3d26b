// The agent's small HTTP server (fastify): /healthz and Prometheus /metrics.
import Fastify, { type FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';

export interface Health {
  readonly healthy: boolean;
  readonly [key: string]: unknown;
}

export async function startHttpServer(
  listen: string,
  health: () => Health,
  registry: Registry,
): Promise<FastifyInstance> {
  const m = /^(.*):(\d+)$/.exec(listen);
  if (!m) throw new Error(`--http ${JSON.stringify(listen)}: use HOST:PORT`);
  const app = Fastify({ logger: false });
  // Liveness: the process answers. Readiness (/healthz) can be false for long (etcd down past the lease TTL)
  // without the agent being stuck, and restarting it then would not help.
  app.get('/livez', async () => ({ alive: true }));
  app.get('/healthz', async (_req, reply) => {
    const h = health();
    return reply.code(h.healthy ? 200 : 503).send(h);
  });
  app.get('/metrics', async (_req, reply) => {
    return reply.header('content-type', registry.contentType).send(await registry.metrics());
  });
  await app.listen({ host: m[1] || '127.0.0.1', port: Number(m[2]) });
  return app;
}
