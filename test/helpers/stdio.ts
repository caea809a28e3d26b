// Reading a container's (or an exec's) output in attach and exec tests, and the skip reason they share.
import type { Readable } from 'node:stream';
import { attachRelayPath } from '../../pkg/runtime/attach.ts';
import { whyContainersCannotRun } from './container.ts';

/** Why conmon containers with an attached client cannot run here (no root, runc, conmon or relay build). */
export function whyAttachCannotRun(): string | undefined {
  const reason = whyContainersCannotRun({ conmon: true });
  if (reason) return reason;
  try {
    attachRelayPath();
  } catch (err) {
    return (err as Error).message;
  }
  return undefined;
}

/** Everything a stream carries until it ends. */
export async function readAll(stream: Readable): Promise<string> {
  let text = '';
  for await (const chunk of stream) text += (chunk as Buffer).toString('utf8');
  return text;
}

/**
 * Everything read once `pattern` shows. Call it before whatever makes the output come: a stream already
 * flowing for another reader does not replay what went by.
 */
export function readUntil(stream: Readable, pattern: RegExp): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    const onData = (chunk: Buffer): void => {
      text += chunk.toString('utf8');
      if (pattern.test(text)) {
        stream.off('data', onData);
        resolve(text);
      }
    };
    stream.on('data', onData);
    stream.once('end', () => reject(new Error(`output ended before ${pattern}: ${JSON.stringify(text)}`)));
  });
}
