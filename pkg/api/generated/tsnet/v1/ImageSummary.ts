// Original file: pkg/api/proto/tsnet/v1/images.proto

import type { Long } from '@grpc/proto-loader';

export interface ImageSummary {
  'id'?: (string);
  'repoTags'?: (string)[];
  'repoDigests'?: (string)[];
  'createdUnix'?: (number | string | Long);
  'size'?: (number | string | Long);
  'labels'?: ({[key: string]: string});
  'containers'?: (number | string | Long);
}

export interface ImageSummary__Output {
  'id': (string);
  'repoTags': (string)[];
  'repoDigests': (string)[];
  'createdUnix': (number);
  'size': (number);
  'labels': ({[key: string]: string});
  'containers': (number);
}
