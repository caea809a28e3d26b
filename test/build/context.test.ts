import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  mkdirSync,
  readFileSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import tar from 'tar-stream';
import {
  BuildContext,
  ContextError,
  compileGoPattern,
  contextPath,
  destinationOf,
  extractArchive,
  localArchiveCompression,
  parseDockerignore,
} from '../../pkg/build/context.ts';
import { contextTar } from '../../pkg/ctl/build-session.ts';
import { withTempDir } from '../helpers/tmp.ts';

function files(root: string, tree: Record<string, string>) {
  for (const [path, content] of Object.entries(tree)) {
    mkdirSync(join(root, path, '..'), { recursive: true });
    writeFileSync(join(root, path), content);
  }
}

/** The paths a list of sources selects. */
async function selected(ctx: BuildContext, ...sources: string[]): Promise<string[]> {
  return (await ctx.select(sources)).flatMap((s) => s.entries.map((e) => e.path));
}

test('.dockerignore: comments, cleaning, ** and ! exceptions, last match wins', async (t) => {
  t.deepEqual(parseDockerignore('# comment\n\n /abs/ \n./dot\n!keep\nx/../y\n  # not a comment\n'), [
    'abs',
    'dot',
    '!keep',
    'y',
    '# not a comment',
  ]);
  await withTempDir(async (dir) => {
    files(dir, {
      '.dockerignore': '*.log\n!important.log\nbuild\n!build/keep\n**/tmp\nDockerfile\n',
      Dockerfile: 'FROM scratch\n',
      'a.log': '',
      'important.log': '',
      'src/main.ts': '',
      'src/tmp/x': '',
      'build/out': '',
      'build/keep': '',
      'deep/er/tmp/y': '',
      'deep/er/z': '',
    });
    const ctx = await BuildContext.open(dir);
    t.false(ctx.includes('a.log'));
    t.true(ctx.includes('important.log'));
    t.false(ctx.includes('build/out'));
    t.true(ctx.includes('build/keep'));
    t.false(ctx.includes('deep/er/tmp/y'));
    t.false(
      ctx.includes('Dockerfile'),
      'an excluded Dockerfile is still read by the builder, but not copied',
    );
    t.deepEqual(await selected(ctx, '.'), [
      '',
      '.dockerignore',
      'build/keep',
      'deep',
      'deep/er',
      'deep/er/z',
      'important.log',
      'src',
      'src/main.ts',
    ]);
    // An excluded directory with a re-included file is copied with only that file.
    t.deepEqual(await selected(ctx, 'build'), ['build/keep']);
    await t.throwsAsync(ctx.select(['a.log']), {
      instanceOf: ContextError,
      message: 'a.log: not found in the build context (excluded by .dockerignore)',
    });
  });
});

test("Go's filepath.Match: * and ? stay within a path component, classes and escapes", (t) => {
  const cases: [string, string, boolean][] = [
    ['*.txt', 'a.txt', true],
    ['*.txt', 'dir/a.txt', false],
    ['dir/*.txt', 'dir/a.txt', true],
    ['?.go', 'a.go', true],
    ['?.go', 'ab.go', false],
    ['[a-c]*', 'beta', true],
    ['[^a-c]*', 'beta', false],
    ['[!]x', '!x', true],
    ['a\\*b', 'a*b', true],
    ['a\\*b', 'axb', false],
    ['file[0-9].md', 'file7.md', true],
  ];
  for (const [pattern, path, expected] of cases)
    t.is(compileGoPattern(pattern).test(path), expected, `${pattern} ~ ${path}`);
  t.throws(() => compileGoPattern('[abc'), { instanceOf: ContextError, message: /syntax error/ });
});

test('wildcard COPY sources match files and directories of the context', async (t) => {
  await withTempDir(async (dir) => {
    files(dir, { 'a.txt': '', 'b.txt': '', 'c.md': '', 'sub/d.txt': '', 'conf.d/x.conf': '' });
    const ctx = await BuildContext.open(dir);
    t.deepEqual(await selected(ctx, '*.txt'), ['a.txt', 'b.txt']);
    t.deepEqual(await selected(ctx, 'sub/*.txt'), ['sub/d.txt']);
    t.deepEqual(await selected(ctx, 'conf.*'), ['conf.d', 'conf.d/x.conf']);
    await t.throwsAsync(ctx.select(['*.none']), { message: '*.none: not found in the build context' });
  });
});

test('sources may not leave the context: .., a symlinked parent, URLs', async (t) => {
  await withTempDir(async (dir) => {
    const root = join(dir, 'ctx');
    files(root, { 'in/file': 'x' });
    files(dir, { 'secret/key': 'k' });
    symlinkSync('../secret', join(root, 'out'));
    symlinkSync('in', join(root, 'inside'));
    const ctx = await BuildContext.open(root);
    t.throws(() => contextPath('../x'), { message: '../x: forbidden path outside the build context' });
    t.is(contextPath('/abs/./p/'), 'abs/p', 'an absolute source is relative to the context');
    await t.throwsAsync(ctx.select(['out/key']), { message: /forbidden path outside the build context/ });
    t.deepEqual(
      await selected(ctx, 'inside/file'),
      ['inside/file'],
      'a symlink within the context is followed',
    );
    await t.throwsAsync(ctx.select(['https://example.com/x.tar']), {
      message: /URL and git sources are not supported/,
    });
  });
});

test('the content hash changes with content, mode and names, not with mtimes', async (t) => {
  await withTempDir(async (dir) => {
    files(dir, { 'app/a': 'one', 'app/b': 'two', other: 'o' });
    const ctx = await BuildContext.open(dir);
    const hash = async () => ctx.contentHash(await ctx.select(['app']));
    const first = await hash();
    utimesSync(join(dir, 'app/a'), new Date(0), new Date(0));
    t.is(await hash(), first, 'mtime is not content');
    writeFileSync(join(dir, 'other'), 'changed');
    t.is(await hash(), first, 'a file the copy does not take');
    writeFileSync(join(dir, 'app/a'), 'ONE');
    const edited = await hash();
    t.not(edited, first);
    chmodSync(join(dir, 'app/b'), 0o755);
    t.not(await hash(), edited);
  });
});

test('destinations: into a directory, a file renamed, a directory content', (t) => {
  const file = { path: 'src/a.txt', stats: { isDirectory: () => false } } as never;
  const directory = { path: 'src', stats: { isDirectory: () => true } } as never;
  t.is(destinationOf('src/a.txt', file, '/app/', false), '/app/a.txt');
  t.is(destinationOf('src/a.txt', file, '/app/b.txt', false), '/app/b.txt');
  t.is(destinationOf('src/a.txt', file, '/app', true), '/app/a.txt');
  t.is(destinationOf('src/x/y', directory, '/app', false), '/app/x/y');
  t.is(destinationOf('src', directory, '/app', false), '/app');
});

test('ADD of a local tar: recognised by content (plain and gzip), unpacked with modes kept', async (t) => {
  await withTempDir(async (dir) => {
    files(join(dir, 'src'), { 'pkg/bin/tool': '#!/bin/sh\n', 'pkg/README': 'r' });
    chmodSync(join(dir, 'src/pkg/bin/tool'), 0o755);
    execFileSync('tar', ['-cf', join(dir, 'plain.bin'), '-C', join(dir, 'src'), 'pkg']);
    execFileSync('tar', ['-czf', join(dir, 'pkg.tgz'), '-C', join(dir, 'src'), 'pkg']);
    writeFileSync(join(dir, 'not.tar.gz'), 'just text');
    execFileSync('sh', ['-c', `echo text | gzip > ${join(dir, 'text.gz')}`]);
    t.is(await localArchiveCompression(join(dir, 'plain.bin')), 'none');
    t.is(await localArchiveCompression(join(dir, 'pkg.tgz')), 'gzip');
    t.is(await localArchiveCompression(join(dir, 'not.tar.gz')), undefined);
    t.is(
      await localArchiveCompression(join(dir, 'text.gz')),
      undefined,
      'gzip of a non-tar is copied as a file',
    );
    mkdirSync(join(dir, 'dest'));
    await extractArchive(join(dir, 'pkg.tgz'), join(dir, 'dest'));
    t.is(readFileSync(join(dir, 'dest/pkg/bin/tool'), 'utf8'), '#!/bin/sh\n');
    t.is(statSync(join(dir, 'dest/pkg/bin/tool')).mode & 0o777, 0o755);
  });
});

test('the client sends the context without what .dockerignore excludes (exceptions kept), .dockerignore with it', async (t) => {
  await withTempDir(async (dir) => {
    const names = async (ignore: string) => {
      writeFileSync(join(dir, '.dockerignore'), ignore);
      const out: string[] = [];
      const extract = tar.extract();
      const done = (async () => {
        for await (const entry of extract) {
          out.push(entry.header.name);
          entry.resume();
        }
      })();
      (await contextTar(dir)).pipe(extract);
      await done;
      return out.sort();
    };
    files(dir, {
      Dockerfile: 'FROM scratch\n',
      'app/main.txt': 'main\n',
      'app/debug.log': 'log\n',
      'node_modules/big/index.js': 'x\n',
      'logs/keep.log': 'keep\n',
      'logs/drop.log': 'drop\n',
    });
    t.deepEqual(await names('node_modules\n**/*.log\nDockerfile\n'), [
      '.dockerignore',
      'app/',
      'app/main.txt',
      'logs/',
    ]);
    // an exception under an excluded directory: the directory is walked, only the exception sent
    t.deepEqual(await names('node_modules\nlogs\n!logs/keep.log\n'), [
      '.dockerignore',
      'Dockerfile',
      'app/',
      'app/debug.log',
      'app/main.txt',
      'logs/keep.log',
    ]);
    await t.throwsAsync(contextTar(join(dir, 'missing')), { instanceOf: ContextError });
  });
});
