// Original file: pkg/api/proto/tsnet/v1/containers.proto

import type { PortBinding as _tsnet_v1_PortBinding, PortBinding__Output as _tsnet_v1_PortBinding__Output } from '../../tsnet/v1/PortBinding.ts';
import type { Long } from '@grpc/proto-loader';

export interface ContainerSummary {
  'id'?: (string);
  'names'?: (string)[];
  'image'?: (string);
  'imageId'?: (string);
  'command'?: (string);
  'createdUnix'?: (number | string | Long);
  /**
   * created, running, paused, restarting, exited, removing.
   */
  'state'?: (string);
  /**
   * Docker's human status: "Up 3 minutes", "Exited (0) 2 seconds ago", ...
   */
  'status'?: (string);
  'ports'?: (_tsnet_v1_PortBinding)[];
  'labels'?: ({[key: string]: string});
  'networks'?: (string)[];
  'exitCode'?: (number);
}

export interface ContainerSummary__Output {
  'id': (string);
  'names': (string)[];
  'image': (string);
  'imageId': (string);
  'command': (string);
  'createdUnix': (number);
  /**
   * created, running, paused, restarting, exited, removing.
   */
  'state': (string);
  /**
   * Docker's human status: "Up 3 minutes", "Exited (0) 2 seconds ago", ...
   */
  'status': (string);
  'ports': (_tsnet_v1_PortBinding__Output)[];
  'labels': ({[key: string]: string});
  'networks': (string)[];
  'exitCode': (number);
}
