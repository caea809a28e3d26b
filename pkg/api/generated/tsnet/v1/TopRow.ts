// Original file: pkg/api/proto/tsnet/v1/containers.proto


export interface TopRow {
  'fields'?: (string)[];
}

export interface TopRow__Output {
  'fields': (string)[];
}
