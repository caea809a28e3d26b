// Original file: pkg/api/proto/tsnet/v1/images.proto


export interface BuildMessage {
  /**
   * One line of output: "Step 1/5 : FROM busybox", " ---> Using cache", " ---> 1a2b3c4d5e6f", a RUN's output.
   */
  'stream'?: (string);
  /**
   * On the last message of a build that succeeded: the image ID.
   */
  'imageId'?: (string);
  /**
   * On the last message of a build that failed (the call then ends with an error status too).
   */
  'error'?: (string);
  /**
   * A failed RUN's exit code.
   */
  'exitCode'?: (number);
}

export interface BuildMessage__Output {
  /**
   * One line of output: "Step 1/5 : FROM busybox", " ---> Using cache", " ---> 1a2b3c4d5e6f", a RUN's output.
   */
  'stream': (string);
  /**
   * On the last message of a build that succeeded: the image ID.
   */
  'imageId': (string);
  /**
   * On the last message of a build that failed (the call then ends with an error status too).
   */
  'error': (string);
  /**
   * A failed RUN's exit code.
   */
  'exitCode': (number);
}
