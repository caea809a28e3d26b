// Original file: pkg/api/proto/tsnet/v1/volumes.proto


export interface CreateVolumeRequest {
  /**
   * Empty: a random 64-hex name (an anonymous volume).
   */
  'name'?: (string);
  /**
   * local (the only driver).
   */
  'driver'?: (string);
  'options'?: ({[key: string]: string});
  'labels'?: ({[key: string]: string});
}

export interface CreateVolumeRequest__Output {
  /**
   * Empty: a random 64-hex name (an anonymous volume).
   */
  'name': (string);
  /**
   * local (the only driver).
   */
  'driver': (string);
  'options': ({[key: string]: string});
  'labels': ({[key: string]: string});
}
