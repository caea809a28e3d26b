// pkg/cni: the CNI spec 1.1.0 layer every tsnet plugin uses.
export * from './delegate.ts';
export * from './env.ts';
export * from './errors.ts';
export * from './netconf.ts';
export * from './serve.ts';
export * from './skel.ts';
export type * from './types.ts';
export * from './version.ts';
