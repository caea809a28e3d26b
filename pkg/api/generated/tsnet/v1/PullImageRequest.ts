// Original file: pkg/api/proto/tsnet/v1/images.proto


export interface PullImageRequest {
  'reference'?: (string);
  /**
   * os/arch[/variant]; empty = the node's.
   */
  'platform'?: (string);
  /**
   * Pull every tag of the repository (docker pull -a).
   */
  'allTags'?: (boolean);
}

export interface PullImageRequest__Output {
  'reference': (string);
  /**
   * os/arch[/variant]; empty = the node's.
   */
  'platform': (string);
  /**
   * Pull every tag of the repository (docker pull -a).
   */
  'allTags': (boolean);
}
