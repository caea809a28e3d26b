// The build loop over pkg/build's pieces: each planned stage starts from its base image (pulled when
// missing) or `scratch`, each filesystem step runs on a snapshot of the stage's layers so far and becomes a
// layer (writeLayer of the snapshot's upper dir) in the content store, each metadata step changes the
// StageConfig, and the target stage is committed as an image under the -t names. Steps found in the build
// cache are not run ("CACHED"). A failing step removes its snapshot and mount: nothing is left behind.
// What the build uses before the final image names it (the base image, cached and new layers) is held by a
// catalog lease, so a concurrent rmi or image prune cannot collect it midway; each look at whether content is
// there, and each unpack, runs under the catalog's shared lock (never around a pull or a RUN, which take it
// themselves: a nested shared hold could wait behind a queued removal).
import { chmod, cp, lchown, lstat, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { type Digest, digestOf } from '../content/digest.ts';
import type { CatalogLease, ImageCatalog, LocalImage } from '../image/catalog.ts';
import { DOCKER_CONFIG, DOCKER_MANIFEST } from '../registry/mediatypes.ts';
import { chainIds, unpackLayers } from '../snapshot/chain.ts';
import { isMounted, mountAll, unmount } from '../snapshot/mount.ts';
import { temporaryKey } from '../snapshot/overlay.ts';
import { BuildCache, type CacheEntry, cacheKey } from './cache.ts';
import {
  type HistoryEntry,
  historyEntry,
  type ImageRuntimeConfig,
  resolveWorkdir,
  StageConfig,
} from './config.ts';
import { type BuildContext, destinationOf, extractArchive, localArchiveCompression } from './context.ts';
import { resolveCopyOwner } from './copy-options.ts';
import { DockerfileError, type Instruction, type ParsedDockerfile } from './dockerfile.ts';
import { type BuildPlan, planBuild, resolveCopyFrom, StageScope } from './expand.ts';
import { type StoredLayer, storeImage, storeUpperDir } from './image-writer.ts';

/** A failed build: the Dockerfile line, and for a RUN the command's exit code. */
export class BuildError extends Error {
  constructor(
    message: string,
    readonly exitCode?: number,
  ) {
    super(message);
    this.name = 'BuildError';
  }
}

/** What a RUN step needs from the runtime: `argv` run as a container of the stage so far. */
export interface RunStep {
  /** The stage's image so far: its layers (committed snapshots) and its config. */
  image: LocalImage;
  argv: string[];
  env: string[];
  workdir: string;
  user: string;
  /** The step's container, once created (its ID is printed as Docker's builder prints it). */
  onContainer?: (id: string) => void;
  onOutput: (chunk: Buffer) => void;
}

/** A RUN that ran: its exit code and the container's upper dir, until `release` removes the container. */
export interface RunOutcome {
  exitCode: number;
  upper: string;
  /** Empty files the runtime made in the upper dir as its mount points: not part of the layer. */
  mountPoints?: ReadonlySet<string>;
  release(): Promise<void>;
}

export interface StepRunner {
  run(step: RunStep): Promise<RunOutcome>;
}

export interface BuilderDeps {
  catalog: ImageCatalog;
  /** Where the build cache index lives. */
  cacheDir: string;
  /** Where the builder makes mount points (removed after each step). */
  scratchDir: string;
  /** Pulls a base image that is not present (or every one with --pull). */
  pull: (ref: string) => Promise<void>;
  /** RUN steps; a build with a RUN fails without it. */
  runner?: StepRunner;
}

export interface BuildOptions {
  dockerfile: ParsedDockerfile;
  context: BuildContext;
  tags: readonly string[];
  buildArgs?: Readonly<Record<string, string>>;
  target?: string;
  noCache?: boolean;
  pull?: boolean;
  /** One progress line at a time ("Step 2/5 : RUN ...", " ---> Using cache", RUN output, " ---> 1a2b3c4d5e6f"). */
  progress: (line: string) => void;
}

type Layer = StoredLayer;

interface StageState {
  layers: Layer[];
  config: StageConfig;
  history: HistoryEntry[];
}

export interface BuildResult {
  id: string;
  names: string[];
}

const SCRATCH_CHAIN = 'scratch';

/** A step's changes: its upper dir, and what to do with it once its layer is written (or the step failed). */
interface StepOutput {
  upper: string;
  mountPoints?: ReadonlySet<string>;
  /** `chainId` of the new layer when it was written, undefined on failure. */
  finish(chainId: string | undefined): Promise<void>;
}

/** An image's layers as the builder keeps them (blob and diffID side by side). */
function layersOf(image: LocalImage): Layer[] {
  return image.manifest.layers.map((l, i) => ({
    mediaType: l.mediaType,
    digest: l.digest,
    size: l.size,
    diffId: image.config.rootfs?.diff_ids?.[i] ?? '',
  }));
}

/** The short ID Docker prints after each step: here a digest of the stage's layers and config so far. */
function stepId(state: StageState): string {
  const digest = digestOf(
    Buffer.from(JSON.stringify({ layers: state.layers.map((l) => l.diffId), config: state.config.config })),
  );
  return digest.slice('sha256:'.length, 'sha256:'.length + 12);
}

/** The stage so far as an image the engine can run (not named; its layers are committed snapshots). */
function stageImage(state: StageState): LocalImage {
  const config = {
    config: {
      Env: state.config.config.Env ?? [],
      WorkingDir: state.config.config.WorkingDir ?? '',
      User: state.config.config.User ?? '',
    },
    rootfs: { type: 'layers', diff_ids: state.layers.map((l) => l.diffId) },
  };
  const configBytes = Buffer.from(JSON.stringify(config));
  const digest = digestOf(configBytes);
  return {
    id: digest,
    records: [],
    manifest: {
      kind: 'manifest',
      mediaType: DOCKER_MANIFEST,
      config: { mediaType: DOCKER_CONFIG, digest, size: configBytes.length },
      layers: state.layers.map((l) => ({ mediaType: l.mediaType, digest: l.digest as Digest, size: l.size })),
    },
    config,
    size: state.layers.reduce((n, l) => n + l.size, 0),
    repoTags: [],
    repoDigests: [],
  };
}

export class Builder {
  readonly #cache: BuildCache;
  #context!: BuildContext;
  #lease!: CatalogLease;
  constructor(
    private readonly deps: BuilderDeps,
    noCache = false,
  ) {
    this.#cache = new BuildCache(deps.cacheDir, { noCache });
  }

  async build(opts: BuildOptions): Promise<BuildResult> {
    this.#context = opts.context;
    this.#lease = this.deps.catalog.lease();
    try {
      return await this.#build(opts);
    } finally {
      this.#lease.release();
    }
  }

  async #build(opts: BuildOptions): Promise<BuildResult> {
    const df = opts.dockerfile;
    const plan = planBuild(df, {
      ...(opts.buildArgs && { buildArgs: opts.buildArgs }),
      ...(opts.target !== undefined && { target: opts.target }),
    });
    const total = plan.order.reduce((n, i) => n + 1 + (plan.stages[i]?.instructions.length ?? 0), 0);
    const built = new Map<number, StageState>();
    let step = 0;
    for (const index of plan.order) {
      const stage = plan.stages[index]!;
      step++;
      opts.progress(
        `Step ${step}/${total} : ${df.instructions.find((i) => i.line === stage.line)?.text ?? 'FROM'}`,
      );
      const state = await this.#base(stage.base, built, opts);
      opts.progress(` ---> ${stepId(state)}`);
      const scope = new StageScope(df, plan.globals, opts.buildArgs ?? {}, state.config.config.Env ?? []);
      for (const raw of stage.instructions) {
        step++;
        opts.progress(`Step ${step}/${total} : ${raw.text.replace(/\s*\n\s*/g, ' ')}`);
        const instr = scope.apply(raw);
        await this.#step(plan, index, instr, state, scope, built, opts, df.file);
        opts.progress(` ---> ${stepId(state)}`);
      }
      built.set(index, state);
    }
    const final = built.get(plan.target.index)!;
    return this.#commit(final, opts.tags, opts.progress);
  }

  async #base(
    base: BuildPlan['stages'][number]['base'],
    built: Map<number, StageState>,
    opts: BuildOptions,
  ): Promise<StageState> {
    if (base.kind === 'scratch') return { layers: [], config: new StageConfig({}), history: [] };
    if (base.kind === 'stage') {
      const from = built.get(base.index);
      if (!from) throw new BuildError(`stage ${base.index} was not built`);
      return {
        layers: [...from.layers],
        config: new StageConfig(from.config.config),
        history: [...from.history],
      };
    }
    const image = await this.#image(base.ref, opts.pull ?? false);
    const layers = layersOf(image);
    await this.#unpack(layers);
    return {
      layers,
      config: new StageConfig(structuredClone(image.config.config ?? {}) as ImageRuntimeConfig),
      history: (image.config.history ?? []).map((h) => ({
        created: h.created ?? '',
        created_by: h.created_by ?? '',
        ...(h.empty_layer && { empty_layer: true }),
      })),
    };
  }

  /** The image `ref` names (pulled when missing, or first with --pull), its content leased to the build. */
  async #image(ref: string, pull: boolean): Promise<LocalImage> {
    const { catalog } = this.deps;
    const found = () =>
      catalog.lock.withShared(async () => {
        const image = await catalog.find(ref);
        this.#keep([image.manifest.config.digest], layersOf(image));
        return image;
      });
    if (pull) await this.deps.pull(ref);
    try {
      return await found();
    } catch {
      await this.deps.pull(ref);
      return found();
    }
  }

  /** Leases blobs and the layers' chains to this build; call under the catalog's shared lock. */
  #keep(blobs: readonly string[], layers: readonly Layer[]): void {
    this.#lease.keepBlobs([...blobs, ...layers.map((l) => l.digest)]);
    this.#lease.keepChains(chainIds(layers.map((l) => l.diffId)));
  }

  /** Every layer of the chain as a committed snapshot (a cached step's layer may not be unpacked yet). */
  async #unpack(layers: readonly Layer[]): Promise<string | undefined> {
    const { content, snapshots } = this.deps.catalog.stores;
    // Under the shared lock, as a pull unpacks: a removal's collection takes half-extracted snapshots away.
    return this.deps.catalog.lock.withShared(() =>
      unpackLayers(
        snapshots,
        layers.map((l) => ({ diffId: l.diffId, open: () => content.reader(l.digest as Digest) })),
      ),
    );
  }

  async #step(
    plan: BuildPlan,
    stageIndex: number,
    instr: Instruction,
    state: StageState,
    scope: StageScope,
    built: Map<number, StageState>,
    opts: BuildOptions,
    file: string,
  ): Promise<void> {
    const created = new Date();
    const parentChainId = chainIds(state.layers.map((l) => l.diffId)).at(-1) ?? SCRATCH_CHAIN;
    if (instr.kind !== 'RUN' && instr.kind !== 'COPY' && instr.kind !== 'ADD') {
      // Cached too (keyed by the config so far), so a rebuild prints every step as cached, as Docker does.
      const key = cacheKey({
        parentChainId,
        instruction: instr,
        contentHash: digestOf(JSON.stringify(state.config.config)),
      });
      const hit = await this.#cache.lookup(key);
      state.config.apply(instr);
      if (hit) opts.progress(' ---> Using cache');
      const history = hit?.history ?? historyEntry(instr, { created, shell: state.config.shell() });
      if (!hit) await this.#cache.store(key, { history });
      state.history.push(history);
      return;
    }
    const c = state.config.config;
    let key: string;
    let produce: () => Promise<StepOutput>;
    if (instr.kind === 'RUN') {
      const argv = state.config.argv(instr.command);
      const env = scope.runEnv();
      const workdir = c.WorkingDir || '/';
      const user = c.User ?? ''; // empty: the runtime's default (uid 0), no passwd lookup
      key = cacheKey({ parentChainId, instruction: instr, env, argv, workdir, user });
      produce = () => this.#run(state, { argv, env, workdir, user }, `${file}:${instr.line}`, opts.progress);
    } else {
      // A relative destination is below WORKDIR; `.` and a trailing `/` name a directory.
      const dir = instr.dest.endsWith('/') || instr.dest === '.' || instr.dest.endsWith('/.');
      const dest = resolveWorkdir(c.WorkingDir, instr.dest);
      const copy = await this.#copySource(
        plan,
        stageIndex,
        { ...instr, dest: dir && dest !== '/' ? `${dest}/` : dest },
        built,
      );
      key = cacheKey({
        parentChainId,
        instruction: instr,
        contentHash: copy.hash,
        workdir: c.WorkingDir ?? '/',
      });
      produce = () =>
        this.#onSnapshot(state.layers, async (rootfs) => {
          try {
            await copy.populate(rootfs);
          } catch (err) {
            if (err instanceof BuildError || err instanceof DockerfileError) throw err;
            throw new BuildError(`${file}:${instr.line}: ${(err as Error).message}`);
          }
        });
    }
    const hit: CacheEntry | undefined = await this.#cache.lookup(key);
    if (hit) {
      const { layer } = hit;
      const present =
        !layer ||
        (await this.deps.catalog.lock.withShared(async () => {
          this.#keep([], [...state.layers, layer]);
          return (await this.deps.catalog.stores.content.info(layer.digest as Digest)) !== undefined;
        }));
      if (present) {
        opts.progress(' ---> Using cache');
        if (layer) state.layers.push(layer);
        state.history.push(hit.history);
        return;
      }
      await this.#cache.forget(key);
    }
    const layer = await this.#writeStepLayer(state.layers, await produce());
    const history = historyEntry(instr, {
      created,
      shell: state.config.shell(),
      args: scope.args(),
      emptyLayer: false,
    });
    state.layers.push(layer);
    state.history.push(history);
    await this.#cache.store(key, { layer, history });
  }

  /** The content hash and the copy of a COPY/ADD (from the context, an earlier stage or an image). */
  async #copySource(
    plan: BuildPlan,
    stageIndex: number,
    instr: Extract<Instruction, { kind: 'COPY' | 'ADD' }>,
    built: Map<number, StageState>,
  ): Promise<{ hash: string; populate: (rootfs: string) => Promise<void> }> {
    const owner = (rootfs: string) =>
      instr.chown ? resolveCopyOwner(instr.chown, rootfs) : { uid: 0, gid: 0 };
    const destIn = (rootfs: string, dest: string) => {
      const abs = posix.resolve('/', dest);
      return join(rootfs, abs);
    };
    if (instr.from === undefined) {
      const selections = await this.#context.select(instr.sources);
      const hash = await this.#context.contentHash(selections);
      const many = selections.length > 1 || selections.some((s) => s.matches.length > 1);
      return {
        hash,
        populate: async (rootfs) => {
          const own = owner(rootfs);
          for (const sel of selections)
            for (const match of sel.matches)
              for (const entry of sel.entries.filter(
                (e) => e.path === match.path || e.path.startsWith(`${match.path}/`) || match.path === '',
              )) {
                const target = destIn(rootfs, destinationOf(entry.path, match, instr.dest, many));
                const host = this.#context.hostPath(entry.path);
                if (entry.stats.isDirectory()) {
                  await mkdir(target, { recursive: true });
                } else if (
                  instr.kind === 'ADD' &&
                  entry.stats.isFile() &&
                  (await localArchiveCompression(host))
                ) {
                  await mkdir(target.replace(/\/[^/]*$/, ''), { recursive: true });
                  await extractArchive(host, destIn(rootfs, instr.dest));
                  continue;
                } else {
                  await mkdir(posix.dirname(target), { recursive: true });
                  await cp(host, target, { preserveTimestamps: true, verbatimSymlinks: true, force: true });
                }
                await lchown(target, own.uid, own.gid);
                if (instr.chmod && !entry.stats.isSymbolicLink())
                  await chmod(target, Number.parseInt(instr.chmod, 8));
              }
        },
      };
    }
    const ref = resolveCopyFrom(plan, instr.from, stageIndex);
    let layers: Layer[];
    if (ref.kind === 'stage') layers = built.get(ref.index)?.layers ?? [];
    else if (ref.kind === 'scratch') layers = [];
    else layers = layersOf(await this.#image(ref.ref, false));
    const chain = chainIds(layers.map((l) => l.diffId)).at(-1) ?? SCRATCH_CHAIN;
    return {
      hash: `${chain}:${instr.sources.join('\0')}`,
      populate: async (rootfs) => {
        const top = await this.#unpack(layers);
        await this.#withMount(top, 'view', async (source) => {
          const own = owner(rootfs);
          const many = instr.sources.length > 1;
          for (const src of instr.sources) {
            const from = join(source, posix.resolve('/', src));
            const base = posix.basename(posix.resolve('/', src));
            const st = await lstat(from).catch(() => undefined);
            if (!st) throw new BuildError(`COPY --from=${instr.from}: ${src}: not found`);
            const toDir = instr.dest.endsWith('/') || many;
            const target = destIn(
              rootfs,
              st.isDirectory() || !toDir ? instr.dest : posix.join(instr.dest, base),
            );
            await mkdir(st.isDirectory() ? target : posix.dirname(target), { recursive: true });
            await cp(from, target, {
              recursive: true,
              preserveTimestamps: true,
              verbatimSymlinks: true,
              force: true,
            });
            if (instr.chown) await lchown(target, own.uid, own.gid);
          }
        });
      },
    };
  }

  /** A RUN as a container of the stage so far; a non-zero exit removes the container and fails the build. */
  async #run(
    state: StageState,
    run: Pick<RunStep, 'argv' | 'env' | 'workdir' | 'user'>,
    where: string,
    progress: (line: string) => void,
  ): Promise<StepOutput> {
    const runner = this.deps.runner;
    if (!runner) throw new BuildError(`${where}: RUN is not available in this builder`);
    await this.#unpack(state.layers);
    let partial = '';
    let container = '';
    const outcome = await runner.run({
      ...run,
      image: stageImage(state),
      onContainer: (id) => {
        container = id.slice(0, 12);
        progress(` ---> Running in ${container}`);
      },
      onOutput: (chunk) => {
        const lines = (partial + chunk.toString('utf8')).split('\n');
        partial = lines.pop() ?? '';
        for (const line of lines) progress(line);
      },
    });
    if (partial !== '') progress(partial);
    const release = async () => {
      await outcome.release();
      if (container) progress(`Removing intermediate container ${container}`);
    };
    if (outcome.exitCode !== 0) {
      await release();
      throw new BuildError(
        `${where}: The command '${run.argv.join(' ')}' returned a non-zero code: ${outcome.exitCode}`,
        outcome.exitCode,
      );
    }
    return {
      upper: outcome.upper,
      ...(outcome.mountPoints && { mountPoints: outcome.mountPoints }),
      finish: release,
    };
  }

  /** A snapshot on the chain so far, mounted for `fn`; kept (as the new layer's chain) or removed after. */
  async #onSnapshot(layers: readonly Layer[], fn: (rootfs: string) => Promise<void>): Promise<StepOutput> {
    const { snapshots } = this.deps.catalog.stores;
    const parent = await this.#unpack(layers);
    const key = temporaryKey('build');
    await snapshots.prepare(key, parent, { 'tsnet.build': 'step' });
    try {
      const point = await this.#mountPoint();
      try {
        mountAll(await snapshots.mounts(key), point);
        try {
          await fn(point);
        } finally {
          if (isMounted(point)) unmount(point, { detach: true });
        }
      } finally {
        await rm(point, { recursive: true, force: true });
      }
    } catch (err) {
      await snapshots.remove(key).catch(() => undefined);
      throw err;
    }
    return {
      upper: await snapshots.directory(key),
      finish: async (chainId) => {
        if (chainId === undefined || (await snapshots.stat(chainId))) await snapshots.remove(key);
        else await snapshots.commit(chainId, key);
      },
    };
  }

  /** The step's upper dir as a layer in the content store; the step's output is finished either way. */
  async #writeStepLayer(layers: readonly Layer[], output: StepOutput): Promise<Layer> {
    let chainId: string | undefined;
    try {
      const layer = await storeUpperDir(
        this.deps.catalog.stores.content,
        output.upper,
        this.deps.scratchDir,
        {
          ...(output.mountPoints && { mountPoints: output.mountPoints }),
          // leased before the blob is stored, the chain before its snapshot is committed
          beforeStore: (stored) => this.#keep([], [...layers, stored]),
        },
      );
      chainId = chainIds([...layers.map((l) => l.diffId), layer.diffId]).at(-1) as string;
      return layer;
    } finally {
      await output.finish(chainId);
    }
  }

  async #withMount<T>(
    chain: string | undefined,
    _kind: 'view',
    fn: (root: string) => Promise<T>,
  ): Promise<T> {
    const point = await this.#mountPoint();
    if (chain === undefined) {
      try {
        return await fn(point);
      } finally {
        await rm(point, { recursive: true, force: true });
      }
    }
    const { snapshots } = this.deps.catalog.stores;
    const key = temporaryKey('build-view');
    const mounts = await snapshots.view(key, chain);
    try {
      mountAll(mounts, point);
      return await fn(point);
    } finally {
      if (isMounted(point)) unmount(point, { detach: true });
      await rm(point, { recursive: true, force: true });
      await snapshots.remove(key).catch(() => undefined);
    }
  }

  async #mountPoint(): Promise<string> {
    await mkdir(this.deps.scratchDir, { recursive: true, mode: 0o700 });
    return mkdtemp(join(this.deps.scratchDir, 'build-'));
  }

  /** The image config and manifest into the content store, named under every tag. */
  async #commit(
    state: StageState,
    tags: readonly string[],
    progress: (l: string) => void,
  ): Promise<BuildResult> {
    // Named under the shared lock, as a pull names: the config and manifest are no one's until then.
    const image = await this.deps.catalog.lock.withShared(() =>
      storeImage(
        this.deps.catalog,
        {
          config: state.config.config,
          layers: state.layers,
          history: state.history,
          ...(state.config.author !== undefined && { author: state.config.author }),
          // the last step's time: a fully cached rebuild makes the same image (ID), as Docker's does
          ...(state.history.at(-1)?.created && { created: state.history.at(-1)?.created }),
        },
        tags,
      ),
    );
    progress(`Successfully built ${image.id.slice('sha256:'.length, 'sha256:'.length + 12)}`);
    for (const n of tags) progress(`Successfully tagged ${n}`);
    return { id: image.id, names: image.names };
  }
}
