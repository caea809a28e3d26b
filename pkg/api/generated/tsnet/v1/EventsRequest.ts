// Original file: pkg/api/proto/tsnet/v1/system.proto

import type { Long } from '@grpc/proto-loader';

export interface EventsRequest {
  /**
   * Unix time in nanoseconds; 0 = only new events.
   */
  'sinceUnixNano'?: (number | string | Long);
  /**
   * "key=value" as docker --filter takes them (a key may repeat: any value matches); keys: type, action, image, container, network, volume.
   */
  'filters'?: (string)[];
}

export interface EventsRequest__Output {
  /**
   * Unix time in nanoseconds; 0 = only new events.
   */
  'sinceUnixNano': (number);
  /**
   * "key=value" as docker --filter takes them (a key may repeat: any value matches); keys: type, action, image, container, network, volume.
   */
  'filters': (string)[];
}
