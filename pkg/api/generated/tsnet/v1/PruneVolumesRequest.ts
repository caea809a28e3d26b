// Original file: pkg/api/proto/tsnet/v1/volumes.proto


export interface PruneVolumesRequest {
  'filters'?: (string)[];
  /**
   * Named volumes too, not only anonymous ones (docker volume prune -a).
   */
  'all'?: (boolean);
}

export interface PruneVolumesRequest__Output {
  'filters': (string)[];
  /**
   * Named volumes too, not only anonymous ones (docker volume prune -a).
   */
  'all': (boolean);
}
