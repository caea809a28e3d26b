// pkg/cni: the CNI spec 1.1.0 layer every tsnet plugin uses (the agent's side of the socket, which loads the
// native module, is imported from ./server.ts directly).
export * from './client.ts';
export * from './delegate.ts';
export * from './env.ts';
export * from './errors.ts';
export * from './netconf.ts';
export * from './output.ts';
export * from './skel.ts';
export {
  CNI_SOCKET_ENV,
  type CniHello,
  type CniRequest,
  cniSocketPath,
  DEFAULT_CNI_SOCKET,
  MAX_REQUEST_BYTES,
} from './socket-protocol.ts';
export type * from './types.ts';
export * from './version.ts';
