// Original file: pkg/api/proto/tsnet/v1/images.proto


export interface ListImagesRequest {
  'all'?: (boolean);
  /**
   * "key=value" as docker --filter takes them (a key may repeat: any value matches); keys: reference, dangling, label, before, since.
   */
  'filters'?: (string)[];
}

export interface ListImagesRequest__Output {
  'all': (boolean);
  /**
   * "key=value" as docker --filter takes them (a key may repeat: any value matches); keys: reference, dangling, label, before, since.
   */
  'filters': (string)[];
}
