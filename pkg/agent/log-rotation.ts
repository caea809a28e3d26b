// The engine's side of Docker's json-file rotation: one LogRotator per running container whose
// HostConfig.LogConfig sets max-size, started when its monitor runs (a start, or an agent restart that
// finds it running) and stopped when the run ends. conmon keeps writing through its descriptor into the
// renamed file until it reopens, so no line is lost.
import type { ContainerCreateSpec } from '../container/create-spec.ts';
import { conmonLogReopener, LogRotator, parseLogRotation } from '../logs/rotate.ts';

/** How often a rotated log's size is checked: a few times a second keeps a file close to max-size. */
const CHECK_INTERVAL_MS = 250;

/** Starts rotating the log of a run; the returned stop resolves once a rotation in progress is done. */
export function startLogRotation(
  spec: ContainerCreateSpec,
  paths: { readonly logPath: string; readonly ctlPath: string },
  onError: (err: Error) => void,
): (() => Promise<void>) | undefined {
  // validated at create: a record that no longer parses rotates nothing rather than failing the run
  let policy: ReturnType<typeof parseLogRotation>;
  try {
    policy = parseLogRotation(spec.HostConfig?.LogConfig);
  } catch (err) {
    onError(err as Error);
    return undefined;
  }
  if (!policy) return undefined;
  const rotator = new LogRotator(paths.logPath, policy, {
    reopen: conmonLogReopener(paths.ctlPath),
    checkIntervalMs: CHECK_INTERVAL_MS,
    onError,
  });
  rotator.start();
  return () => rotator.stop();
}
