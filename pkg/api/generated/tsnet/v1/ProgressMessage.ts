// Original file: pkg/api/proto/tsnet/v1/images.proto

import type { Long } from '@grpc/proto-loader';

/**
 * One step of a long operation, per layer where it has one (Docker's JSON progress messages).
 */
export interface ProgressMessage {
  /**
   * A layer's short ID, or empty for a message about the whole operation.
   */
  'id'?: (string);
  /**
   * "Pulling fs layer", "Downloading", "Verifying Checksum", "Download complete", "Extracting",
   * "Pull complete", "Already exists", "Pushing", "Pushed", "Mounted from ...", "Layer already exists",
   * "Loaded image: ...", "Digest: ...", "Status: ...".
   */
  'status'?: (string);
  'current'?: (number | string | Long);
  'total'?: (number | string | Long);
  /**
   * Set on the last message when the operation failed; the stream then ends with an error status too.
   */
  'error'?: (string);
}

/**
 * One step of a long operation, per layer where it has one (Docker's JSON progress messages).
 */
export interface ProgressMessage__Output {
  /**
   * A layer's short ID, or empty for a message about the whole operation.
   */
  'id': (string);
  /**
   * "Pulling fs layer", "Downloading", "Verifying Checksum", "Download complete", "Extracting",
   * "Pull complete", "Already exists", "Pushing", "Pushed", "Mounted from ...", "Layer already exists",
   * "Loaded image: ...", "Digest: ...", "Status: ...".
   */
  'status': (string);
  'current': (number);
  'total': (number);
  /**
   * Set on the last message when the operation failed; the stream then ends with an error status too.
   */
  'error': (string);
}
