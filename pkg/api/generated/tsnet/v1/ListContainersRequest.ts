// Original file: pkg/api/proto/tsnet/v1/containers.proto


export interface ListContainersRequest {
  /**
   * Stopped ones too (ps -a).
   */
  'all'?: (boolean);
  /**
   * "key=value" as docker --filter takes them; keys: id, name, label, status, ancestor, exited, network, volume, before, since.
   */
  'filters'?: (string)[];
  /**
   * The n most recently created (ps -n); 0: all.
   */
  'last'?: (number);
}

export interface ListContainersRequest__Output {
  /**
   * Stopped ones too (ps -a).
   */
  'all': (boolean);
  /**
   * "key=value" as docker --filter takes them; keys: id, name, label, status, ancestor, exited, network, volume, before, since.
   */
  'filters': (string)[];
  /**
   * The n most recently created (ps -n); 0: all.
   */
  'last': (number);
}
