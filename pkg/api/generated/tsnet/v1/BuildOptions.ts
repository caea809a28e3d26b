// Original file: pkg/api/proto/tsnet/v1/images.proto


export interface BuildOptions {
  /**
   * The Dockerfile's path in the context ("Dockerfile" when empty), or its name in messages when
   * dockerfile_content is set.
   */
  'dockerfile'?: (string);
  /**
   * The Dockerfile's text, when the client read it itself (it may live outside the context).
   */
  'dockerfileContent'?: (string);
  /**
   * Names to give the image (docker build -t, repeatable).
   */
  'tags'?: (string)[];
  'buildArgs'?: ({[key: string]: string});
  /**
   * The stage to build (--target); empty: the last one.
   */
  'target'?: (string);
  'noCache'?: (boolean);
  /**
   * Pull every base image, even one that is present (--pull).
   */
  'pull'?: (boolean);
}

export interface BuildOptions__Output {
  /**
   * The Dockerfile's path in the context ("Dockerfile" when empty), or its name in messages when
   * dockerfile_content is set.
   */
  'dockerfile': (string);
  /**
   * The Dockerfile's text, when the client read it itself (it may live outside the context).
   */
  'dockerfileContent': (string);
  /**
   * Names to give the image (docker build -t, repeatable).
   */
  'tags': (string)[];
  'buildArgs': ({[key: string]: string});
  /**
   * The stage to build (--target); empty: the last one.
   */
  'target': (string);
  'noCache': (boolean);
  /**
   * Pull every base image, even one that is present (--pull).
   */
  'pull': (boolean);
}
