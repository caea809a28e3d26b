// Original file: pkg/api/proto/tsnet/v1/networks.proto


export interface ListNetworksRequest {
  /**
   * "key=value"; keys: name, id, driver, label, scope, type (builtin|custom), dangling.
   */
  'filters'?: (string)[];
}

export interface ListNetworksRequest__Output {
  /**
   * "key=value"; keys: name, id, driver, label, scope, type (builtin|custom), dangling.
   */
  'filters': (string)[];
}
