// Image references checked on the client, as docker does before it calls the daemon.
import {
  formatImageReference,
  type ImageReference,
  ImageReferenceError,
  parseImageReference,
  repositoryName,
} from '../../image/reference.ts';

export { ImageReferenceError };

/** The normalised reference, or an ImageReferenceError naming what is wrong with it. */
export function checkedReference(input: string): ImageReference {
  return parseImageReference(input);
}

/** What docker prints after a pull: `docker.io/library/busybox:latest` (the repository alone for -a). */
export function pulledName(input: string, allTags: boolean): string {
  const ref = parseImageReference(input);
  return allTags ? repositoryName(ref) : formatImageReference(ref);
}
