// Original file: pkg/api/proto/tsnet/v1/networks.proto


export interface NetworkRef {
  /**
   * A name, an ID or a unique ID prefix.
   */
  'network'?: (string);
}

export interface NetworkRef__Output {
  /**
   * A name, an ID or a unique ID prefix.
   */
  'network': (string);
}
