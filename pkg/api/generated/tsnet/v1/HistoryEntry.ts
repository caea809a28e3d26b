// Original file: pkg/api/proto/tsnet/v1/images.proto

import type { Long } from '@grpc/proto-loader';

export interface HistoryEntry {
  /**
   * The layer's ID, or "<missing>" for a step that made no layer, as Docker prints it.
   */
  'id'?: (string);
  'createdUnix'?: (number | string | Long);
  'createdBy'?: (string);
  'size'?: (number | string | Long);
  'comment'?: (string);
  'tags'?: (string)[];
  'emptyLayer'?: (boolean);
}

export interface HistoryEntry__Output {
  /**
   * The layer's ID, or "<missing>" for a step that made no layer, as Docker prints it.
   */
  'id': (string);
  'createdUnix': (number);
  'createdBy': (string);
  'size': (number);
  'comment': (string);
  'tags': (string)[];
  'emptyLayer': (boolean);
}
