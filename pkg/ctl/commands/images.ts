// tsnetctl images (image ls): docker's table of repositories, tags and IDs.
import { Command } from 'commander';
import type { ImageSummary } from '../api.ts';
import { goTime, listFormatter } from '../format/output.ts';
import { createdSince, humanSize, shortId } from '../format/units.ts';
import { type CliContext, collect } from './context.ts';

interface ImagesOptions {
  all: boolean;
  digests: boolean;
  filter: string[];
  format?: string;
  trunc: boolean;
  quiet: boolean;
}

/** One row of `docker images`: the fields its --format knows. */
export interface ImageRow {
  Containers: string;
  CreatedAt: string;
  CreatedSince: string;
  Digest: string;
  ID: string;
  Repository: string;
  SharedSize: string;
  Size: string;
  Tag: string;
  UniqueSize: string;
  VirtualSize: string;
}

const HEADERS = {
  ID: 'IMAGE ID',
  CreatedSince: 'CREATED',
  CreatedAt: 'CREATED AT',
  Repository: 'REPOSITORY',
  Tag: 'TAG',
  Digest: 'DIGEST',
  Size: 'SIZE',
};

/** `name:tag` → [name, tag]; the colon of a registry port is not a tag separator. */
function splitTag(repoTag: string): [string, string] {
  const colon = repoTag.lastIndexOf(':');
  return colon > repoTag.lastIndexOf('/')
    ? [repoTag.slice(0, colon), repoTag.slice(colon + 1)]
    : [repoTag, '<none>'];
}

/** Docker's rows: one per tag, else one per digest, else a `<none>` row. */
export function imageRows(images: readonly ImageSummary[], noTrunc: boolean, now = Date.now()): ImageRow[] {
  const rows: ImageRow[] = [];
  for (const image of images) {
    const digestOf = (repo: string) =>
      image.repoDigests.find((d) => d.startsWith(`${repo}@`))?.slice(repo.length + 1) ?? '<none>';
    const base = {
      Containers: image.containers >= 0 ? String(image.containers) : 'N/A',
      CreatedAt: goTime(image.createdUnix),
      CreatedSince: createdSince(image.createdUnix, now),
      ID: shortId(image.id, noTrunc),
      SharedSize: 'N/A',
      Size: humanSize(image.size),
      UniqueSize: 'N/A',
      VirtualSize: humanSize(image.size),
    };
    const named: [string, string, string][] = image.repoTags.length
      ? image.repoTags.map((rt) => {
          const [repo, tag] = splitTag(rt);
          return [repo, tag, digestOf(repo)];
        })
      : image.repoDigests.map((rd) => {
          const at = rd.indexOf('@');
          return [rd.slice(0, at), '<none>', rd.slice(at + 1)];
        });
    if (named.length === 0) named.push(['<none>', '<none>', '<none>']);
    for (const [Repository, Tag, Digest] of named) rows.push({ ...base, Repository, Tag, Digest });
  }
  return rows;
}

export function imagesCommand(ctx: CliContext, name = 'images'): Command {
  return new Command(name)
    .description('List images')
    .argument('[REPOSITORY[:TAG]]', 'only images of this repository (and tag)')
    .option('-a, --all', 'Show all images (default hides intermediate images)', false)
    .option('--digests', 'Show digests', false)
    .option('-f, --filter <filter>', 'Filter output based on conditions provided', collect, [])
    .option(
      '--format <string>',
      "Format output using a custom template: 'table', 'table TEMPLATE', 'json', 'TEMPLATE'",
    )
    .option('--no-trunc', "Don't truncate output")
    .option('-q, --quiet', 'Only show image IDs', false)
    .action(async (repository: string | undefined, options: ImagesOptions) => {
      const filters = repository ? [...options.filter, `reference=${repository}`] : options.filter;
      const columns = `{{.Repository}}\\t{{.Tag}}${options.digests ? '\\t{{.Digest}}' : ''}\\t{{.ID}}\\t{{.CreatedSince}}\\t{{.Size}}`;
      const formatter = listFormatter<ImageRow>(
        options.quiet ? '{{.ID}}' : options.format,
        `table ${columns}`,
        HEADERS,
      );
      const rows = imageRows(await ctx.images().list(options.all, filters), !options.trunc);
      // -q prints each image once, however many names it has.
      const shown = options.quiet ? rows.filter((r, i) => rows.findIndex((o) => o.ID === r.ID) === i) : rows;
      ctx.stdout.write(formatter.render(shown));
    });
}
