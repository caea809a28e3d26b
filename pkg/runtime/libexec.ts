// Where the build puts the agent's helper programs (scripts/build.ts: dist/libexec), seen from the running
// code: the bundled agent in dist/bin, or these sources in pkg/runtime.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The places helper `name` may be, in the order they are tried. */
export function libexecCandidates(name: string): string[] {
  const here = dirname(fileURLToPath(import.meta.url));
  return [join(here, '..', 'libexec', name), join(here, '..', '..', 'dist', 'libexec', name)];
}

/** Helper `name` where the build put it, or undefined when it is not built. */
export function findLibexec(name: string): string | undefined {
  return libexecCandidates(name).find((p) => existsSync(p));
}
