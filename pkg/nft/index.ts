// tsnet's nftables layer: one `inet tsnet` table per node namespace, changed in atomic JSON batches.
export type { Cidr, HostAddress, IpFamily } from './addr.ts';
export {
  applyNftBatch,
  listNftRuleset,
  listNftTable,
  NFT_BINARY,
  type NftCommand,
  NftError,
  type NftObject,
} from './exec.ts';
export {
  ensureMasquerade,
  isMasqueradeEnsured,
  listMasquerade,
  type MasqueradeEntry,
  type MasqueradeSpec,
  removeMasquerade,
  validateNetworkName,
} from './masquerade.ts';
export {
  addPortMappings,
  allowLocalhostPortmap,
  listPortMappings,
  type PortMapping,
  type PortMappingRequest,
  type PortProtocol,
  type PublishedPort,
  removePortMappings,
  requireHostPortsFree,
} from './portmap.ts';
export { deleteTable, ensureTable, TABLE_FAMILY, TABLE_NAME } from './table.ts';
