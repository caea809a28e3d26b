// A local multi-node tsnet cluster in network namespaces, shared by the cluster tests, the demo and the overlay
// benchmark. See cluster.ts.
export { agentCommand, cniPluginPath, ctlCommand, DIST_CNI, REPO_ROOT } from './agent.ts';
export {
  AGENT_HTTP,
  Cluster,
  type ClusterNode,
  type ClusterOptions,
  type Container,
  DEFAULT_NETWORK,
  ETCD_PREFIX,
  openCluster,
  type SubnetEnv,
  startCluster,
  subnetNetwork,
  teardownCluster,
  VTEP_NAME,
  type VtepInfo,
} from './cluster.ts';
export { type PairResult, pingAllPairs } from './connectivity.ts';
export { ETCD_UNDERLAY_IP, ETCD_URL, etcdMemberIp } from './etcd.ts';
export {
  type CtlResult,
  ip,
  ipJson,
  nsRun,
  PollAbort,
  pings,
  pollUntil,
  run,
  sleep,
  tsnetctl,
} from './exec.ts';
export { writeBusyboxRootfs } from './image.ts';
export { isAlive, rssKib, stopPid } from './process.ts';
export { REGISTRY_HOST, REGISTRY_UNDERLAY_IP } from './registry.ts';
