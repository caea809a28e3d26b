// `commit`: a container's changes (its writable layer, whiteouts for what it deleted) become a new layer on
// its image, with the container's config (its Cmd, Env, ... as it runs) and the `-c` changes applied, and a
// history entry carrying -m and -a, as Docker's commit writes it. A running container is paused meanwhile
// unless asked not to be, so the layer is one moment's state.
import type { ImageCommitRequest } from '../api/images-build.ts';
import { applyCommitChanges, type ImageRuntimeConfig } from '../build/config.ts';
import { type StoredImage, storeImage, storeUpperDir } from '../build/image-writer.ts';
import type { ContainerRecord } from '../container/record.ts';
import type { ImageCatalog } from '../image/catalog.ts';
import { parseImageReference } from '../image/reference.ts';
import { ETC_MOUNT_POINTS } from './container-etc.ts';
import { type ContainerService, containerSnapshotKey } from './containers.ts';

export async function commitContainer(
  engine: ContainerService,
  catalog: ImageCatalog,
  scratchDir: string,
  options: ImageCommitRequest,
): Promise<StoredImage> {
  // What the user gave is checked before the container is touched.
  if (options.reference !== '') parseImageReference(options.reference);
  const record = engine.find(options.container);
  const image = await catalog.find(record.image.id);
  const config = applyCommitChanges(
    committedConfig((image.config.config ?? {}) as ImageRuntimeConfig, record),
    options.changes,
  );
  const pause = options.pause && record.state.status === 'running';
  if (pause) await engine.pauseContainer(record.id);
  let layer: Awaited<ReturnType<typeof storeUpperDir>>;
  try {
    const upper = await catalog.stores.snapshots.directory(containerSnapshotKey(record.id));
    layer = await storeUpperDir(catalog.stores.content, upper, scratchDir, { mountPoints: ETC_MOUNT_POINTS });
  } finally {
    if (pause) await engine.unpauseContainer(record.id);
  }
  const diffIds = image.config.rootfs?.diff_ids ?? [];
  const layers = image.manifest.layers.map((l, i) => ({
    mediaType: l.mediaType,
    digest: l.digest,
    size: l.size,
    diffId: diffIds[i] ?? '',
  }));
  const history = (image.config.history ?? []).map((h) => ({
    created: h.created ?? '',
    created_by: h.created_by ?? '',
    ...(h.author !== undefined && { author: h.author }),
    ...(h.comment !== undefined && { comment: h.comment }),
    ...(h.empty_layer && { empty_layer: true }),
  }));
  history.push({
    created: new Date().toISOString(),
    created_by: [...(record.config.entrypoint ?? []), ...(record.config.cmd ?? [])].join(' '),
    ...(options.author !== '' && { author: options.author }),
    ...(options.comment !== '' && { comment: options.comment }),
  });
  return storeImage(
    catalog,
    {
      config,
      layers: [...layers, layer],
      history,
      ...(options.author !== '' && { author: options.author }),
      ...(options.comment !== '' && { comment: options.comment }),
    },
    options.reference !== '' ? [options.reference] : [],
  );
}

/** The image's config with what the container runs with (Docker commits the container's Config). */
function committedConfig(base: ImageRuntimeConfig, record: ContainerRecord): ImageRuntimeConfig {
  const c = record.config;
  return {
    ...structuredClone(base),
    User: c.user,
    Env: [...c.env],
    Cmd: c.cmd ? [...c.cmd] : null,
    Entrypoint: c.entrypoint ? [...c.entrypoint] : null,
    WorkingDir: c.workingDir,
    ...(Object.keys(c.labels).length > 0 && { Labels: { ...c.labels } }),
    ...(Object.keys(c.exposedPorts).length > 0 && { ExposedPorts: { ...c.exposedPorts } }),
  };
}
