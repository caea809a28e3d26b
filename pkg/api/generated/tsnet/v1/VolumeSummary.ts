// Original file: pkg/api/proto/tsnet/v1/volumes.proto

import type { Long } from '@grpc/proto-loader';

export interface VolumeSummary {
  'name'?: (string);
  'driver'?: (string);
  'mountpoint'?: (string);
  'createdUnix'?: (number | string | Long);
  'labels'?: ({[key: string]: string});
  'scope'?: (string);
  /**
   * Containers using it (any state).
   */
  'refCount'?: (number);
}

export interface VolumeSummary__Output {
  'name': (string);
  'driver': (string);
  'mountpoint': (string);
  'createdUnix': (number);
  'labels': ({[key: string]: string});
  'scope': (string);
  /**
   * Containers using it (any state).
   */
  'refCount': (number);
}
