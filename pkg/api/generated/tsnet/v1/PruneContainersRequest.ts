// Original file: pkg/api/proto/tsnet/v1/containers.proto


export interface PruneContainersRequest {
  'filters'?: (string)[];
}

export interface PruneContainersRequest__Output {
  'filters': (string)[];
}
