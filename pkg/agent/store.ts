// The cluster store the other services share (etcd, or the embedded one under the data dir), and the count of
// store operations that failed.
import { Counter, type Registry } from 'prom-client';
import { openStore, type Store, type StoreConfig } from '../store/index.ts';
import type { Service, ServiceHealth, StartContext } from './service.ts';

export type StoreOperation = 'lease-renew' | 'lease-reacquire' | 'watch';

export class StoreService implements Service {
  readonly name = 'store';
  private readonly config: StoreConfig;
  private opened: Store | undefined;
  private errors: Counter<'operation'> | undefined;

  constructor(config: StoreConfig) {
    this.config = config;
  }

  registerMetrics(registry: Registry): void {
    this.errors = new Counter({
      name: 'tsnet_store_errors_total',
      help: 'Store (etcd) operations that failed, by operation',
      labelNames: ['operation'] as const,
      registers: [registry],
    });
  }

  async start(ctx: StartContext): Promise<void> {
    this.opened = await openStore(this.config);
    ctx.log.info({ store: this.opened.kind, location: this.opened.location }, 'store opened');
  }

  /** The open store; only for services that depend on this one, from their start() on. */
  get store(): Store {
    if (!this.opened)
      throw new Error('the store is not open yet (a service must depend on the store service)');
    return this.opened;
  }

  countError(operation: StoreOperation): void {
    this.errors?.inc({ operation });
  }

  async stop(): Promise<void> {
    await this.opened?.close();
  }

  health(): ServiceHealth {
    return { ready: this.opened !== undefined, kind: this.opened?.kind };
  }
}
