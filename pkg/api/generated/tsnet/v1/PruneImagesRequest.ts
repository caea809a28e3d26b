// Original file: pkg/api/proto/tsnet/v1/images.proto


export interface PruneImagesRequest {
  /**
   * Remove every image no container uses, not only dangling ones (docker image prune -a).
   */
  'all'?: (boolean);
  'filters'?: (string)[];
}

export interface PruneImagesRequest__Output {
  /**
   * Remove every image no container uses, not only dangling ones (docker image prune -a).
   */
  'all': (boolean);
  'filters': (string)[];
}
