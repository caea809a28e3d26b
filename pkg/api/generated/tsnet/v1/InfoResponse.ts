// Original file: pkg/api/proto/tsnet/v1/system.proto

import type { Long } from '@grpc/proto-loader';

export interface InfoResponse {
  'name'?: (string);
  'dataDir'?: (string);
  'runDir'?: (string);
  'images'?: (number | string | Long);
  'containers'?: (number | string | Long);
  'containersRunning'?: (number | string | Long);
  'containersPaused'?: (number | string | Long);
  'containersStopped'?: (number | string | Long);
  'storageDriver'?: (string);
  'cgroupVersion'?: (string);
  'runtime'?: (string);
  'store'?: (string);
  'insecureRegistries'?: (string)[];
  'kernelVersion'?: (string);
  'os'?: (string);
  'arch'?: (string);
  'cpus'?: (number | string | Long);
  'memoryBytes'?: (number | string | Long);
}

export interface InfoResponse__Output {
  'name': (string);
  'dataDir': (string);
  'runDir': (string);
  'images': (number);
  'containers': (number);
  'containersRunning': (number);
  'containersPaused': (number);
  'containersStopped': (number);
  'storageDriver': (string);
  'cgroupVersion': (string);
  'runtime': (string);
  'store': (string);
  'insecureRegistries': (string)[];
  'kernelVersion': (string);
  'os': (string);
  'arch': (string);
  'cpus': (number);
  'memoryBytes': (number);
}
