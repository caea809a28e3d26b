// Original file: pkg/api/proto/tsnet/v1/volumes.proto


export interface ListVolumesRequest {
  /**
   * "key=value"; keys: name, label, dangling, driver.
   */
  'filters'?: (string)[];
}

export interface ListVolumesRequest__Output {
  /**
   * "key=value"; keys: name, label, dangling, driver.
   */
  'filters': (string)[];
}
