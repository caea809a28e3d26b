// Original file: pkg/api/proto/tsnet/v1/images.proto


export interface CommitRequest {
  /**
   * A name, an ID or a unique ID prefix.
   */
  'container'?: (string);
  /**
   * REPO[:TAG]; empty leaves the image untagged.
   */
  'reference'?: (string);
  /**
   * The history entry's comment (-m).
   */
  'comment'?: (string);
  /**
   * The image's author (-a).
   */
  'author'?: (string);
  /**
   * Dockerfile instructions applied to the config (-c).
   */
  'changes'?: (string)[];
  /**
   * Commit a running container without pausing it (--pause=false); the default pauses it meanwhile.
   */
  'noPause'?: (boolean);
}

export interface CommitRequest__Output {
  /**
   * A name, an ID or a unique ID prefix.
   */
  'container': (string);
  /**
   * REPO[:TAG]; empty leaves the image untagged.
   */
  'reference': (string);
  /**
   * The history entry's comment (-m).
   */
  'comment': (string);
  /**
   * The image's author (-a).
   */
  'author': (string);
  /**
   * Dockerfile instructions applied to the config (-c).
   */
  'changes': (string)[];
  /**
   * Commit a running container without pausing it (--pause=false); the default pauses it meanwhile.
   */
  'noPause': (boolean);
}
