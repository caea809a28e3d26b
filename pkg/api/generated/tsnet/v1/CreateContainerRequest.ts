// Original file: pkg/api/proto/tsnet/v1/containers.proto


export interface CreateContainerRequest {
  /**
   * Docker's ContainerCreate body: Config fields at the top level, plus HostConfig and NetworkingConfig.
   */
  'specJson'?: (string);
  /**
   * --name; empty: a generated adjective_surname name.
   */
  'name'?: (string);
  /**
   * Pull the image when it is not here (docker run's --pull=missing).
   */
  'pullMissing'?: (boolean);
}

export interface CreateContainerRequest__Output {
  /**
   * Docker's ContainerCreate body: Config fields at the top level, plus HostConfig and NetworkingConfig.
   */
  'specJson': (string);
  /**
   * --name; empty: a generated adjective_surname name.
   */
  'name': (string);
  /**
   * Pull the image when it is not here (docker run's --pull=missing).
   */
  'pullMissing': (boolean);
}
