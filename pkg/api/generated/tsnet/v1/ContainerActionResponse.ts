// Original file: pkg/api/proto/tsnet/v1/containers.proto


export interface ContainerActionResponse {
  'id'?: (string);
  /**
   * Settings accepted without effect here (e.g. a blkio weight without BFQ).
   */
  'warnings'?: (string)[];
}

export interface ContainerActionResponse__Output {
  'id': (string);
  /**
   * Settings accepted without effect here (e.g. a blkio weight without BFQ).
   */
  'warnings': (string)[];
}
