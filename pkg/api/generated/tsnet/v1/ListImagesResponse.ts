// Original file: pkg/api/proto/tsnet/v1/images.proto

import type { ImageSummary as _tsnet_v1_ImageSummary, ImageSummary__Output as _tsnet_v1_ImageSummary__Output } from '../../tsnet/v1/ImageSummary.ts';

export interface ListImagesResponse {
  'images'?: (_tsnet_v1_ImageSummary)[];
}

export interface ListImagesResponse__Output {
  'images': (_tsnet_v1_ImageSummary__Output)[];
}
