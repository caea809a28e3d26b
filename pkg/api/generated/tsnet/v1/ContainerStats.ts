// Original file: pkg/api/proto/tsnet/v1/containers.proto

import type { Long } from '@grpc/proto-loader';

export interface ContainerStats {
  'id'?: (string);
  'name'?: (string);
  'timeUnixNano'?: (number | string | Long);
  /**
   * Percent of one CPU (200 = two CPUs busy), computed between this sample and the previous one.
   */
  'cpuPercent'?: (number | string);
  'cpuUsageNs'?: (number | string | Long);
  /**
   * Memory in use, page cache excluded.
   */
  'memoryUsage'?: (number | string | Long);
  /**
   * The limit, or the node's memory when unlimited.
   */
  'memoryLimit'?: (number | string | Long);
  'netRxBytes'?: (number | string | Long);
  'netTxBytes'?: (number | string | Long);
  'blockReadBytes'?: (number | string | Long);
  'blockWriteBytes'?: (number | string | Long);
  'pids'?: (number | string | Long);
  'onlineCpus'?: (number);
}

export interface ContainerStats__Output {
  'id': (string);
  'name': (string);
  'timeUnixNano': (number);
  /**
   * Percent of one CPU (200 = two CPUs busy), computed between this sample and the previous one.
   */
  'cpuPercent': (number);
  'cpuUsageNs': (number);
  /**
   * Memory in use, page cache excluded.
   */
  'memoryUsage': (number);
  /**
   * The limit, or the node's memory when unlimited.
   */
  'memoryLimit': (number);
  'netRxBytes': (number);
  'netTxBytes': (number);
  'blockReadBytes': (number);
  'blockWriteBytes': (number);
  'pids': (number);
  'onlineCpus': (number);
}
