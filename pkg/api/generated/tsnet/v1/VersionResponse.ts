// Original file: pkg/api/proto/tsnet/v1/system.proto


export interface VersionResponse {
  'version'?: (string);
  'apiVersion'?: (string);
  'gitCommit'?: (string);
  'nodeVersion'?: (string);
  'os'?: (string);
  'arch'?: (string);
  'kernelVersion'?: (string);
}

export interface VersionResponse__Output {
  'version': (string);
  'apiVersion': (string);
  'gitCommit': (string);
  'nodeVersion': (string);
  'os': (string);
  'arch': (string);
  'kernelVersion': (string);
}
