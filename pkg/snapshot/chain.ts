// Image layers as a chain of committed snapshots, keyed by ChainID (the OCI image spec's identity of a layer
// together with everything below it), so a layer chain shared by several images is unpacked once.
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { applyLayer, LayerError } from '../archive/apply.ts';
import { type OverlaySnapshotter, SnapshotError, temporaryKey } from './overlay.ts';

/** ChainID(L0) = DiffID(L0); ChainID(L0..Ln) = sha256(ChainID(L0..Ln-1) + " " + DiffID(Ln)). */
export function chainIds(diffIds: readonly string[]): string[] {
  const out: string[] = [];
  for (const diffId of diffIds) {
    const previous = out[out.length - 1];
    out.push(
      previous === undefined
        ? diffId
        : `sha256:${createHash('sha256').update(`${previous} ${diffId}`).digest('hex')}`,
    );
  }
  return out;
}

/** The purpose in the temporary keys of layers being unpacked (a crash leaves them for the GC to remove). */
export const EXTRACT_PURPOSE = 'extract';

export interface LayerSource {
  /** The uncompressed layer's digest, as the image config lists it. */
  diffId: string;
  /** Opens the layer's (possibly compressed) tar stream. */
  open(): Promise<Readable>;
}

export interface UnpackProgress {
  layer: number;
  diffId: string;
  state: 'present' | 'unpacked';
  bytes: number;
}

/**
 * Makes sure every layer of the chain is a committed snapshot, unpacking only the missing ones, and returns
 * the ChainID of the top layer (the parent for a container's snapshot). A layer whose content does not hash to
 * its DiffID is refused and leaves nothing behind. Concurrent unpacks of one chain are safe: the loser of a
 * commit race drops its copy.
 */
export async function unpackLayers(
  snapshotter: OverlaySnapshotter,
  layers: readonly LayerSource[],
  onProgress: (p: UnpackProgress) => void = () => undefined,
): Promise<string | undefined> {
  const ids = chainIds(layers.map((l) => l.diffId));
  for (const [i, layer] of layers.entries()) {
    const chainId = ids[i] as string;
    const parent = i === 0 ? undefined : ids[i - 1];
    if (await snapshotter.stat(chainId)) {
      onProgress({ layer: i, diffId: layer.diffId, state: 'present', bytes: 0 });
      continue;
    }
    const key = temporaryKey(EXTRACT_PURPOSE);
    await snapshotter.prepare(key, parent);
    try {
      const applied = await applyLayer(await layer.open(), await snapshotter.directory(key));
      if (applied.diffId !== layer.diffId)
        throw new LayerError(
          `layer ${i} has DiffID ${applied.diffId}, but the image config says ${layer.diffId}`,
        );
      await snapshotter.commit(chainId, key).catch((err: unknown) => {
        if (!(err instanceof SnapshotError && err.kind === 'exists')) throw err;
        return snapshotter.remove(key); // another unpack committed the same layer first
      });
      onProgress({ layer: i, diffId: layer.diffId, state: 'unpacked', bytes: applied.bytes });
    } catch (err) {
      await snapshotter.remove(key).catch(() => undefined);
      throw err;
    }
  }
  return ids[ids.length - 1];
}
