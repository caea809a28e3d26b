// Original file: pkg/api/proto/tsnet/v1/system.proto

import type { Long } from '@grpc/proto-loader';

export interface Event {
  /**
   * image, container, network, volume, node.
   */
  'type'?: (string);
  /**
   * pull, push, tag, untag, delete, import, load, save, create, start, die, ...
   */
  'action'?: (string);
  'id'?: (string);
  'attributes'?: ({[key: string]: string});
  'timeUnixNano'?: (number | string | Long);
}

export interface Event__Output {
  /**
   * image, container, network, volume, node.
   */
  'type': (string);
  /**
   * pull, push, tag, untag, delete, import, load, save, create, start, die, ...
   */
  'action': (string);
  'id': (string);
  'attributes': ({[key: string]: string});
  'timeUnixNano': (number);
}
