// A command line that runs `argv` in a private mount namespace after some mounts made only there (they go away
// with the process; the host's mount table and files are never touched): hide a directory under an empty
// tmpfs, or bind another directory over one.

export type PrivateMount = { hide: string } | { bind: string; over: string };

export function inPrivateMounts(mounts: readonly PrivateMount[], argv: readonly string[]): string[] {
  const paths = mounts.flatMap((m) => ('hide' in m ? [m.hide] : [m.bind, m.over]));
  let n = 0;
  const arg = () => `"$${++n}"`;
  const script = mounts
    .map((m) => ('hide' in m ? `mount -t tmpfs tsnt-hidden ${arg()}` : `mount --bind ${arg()} ${arg()}`))
    .join(' && ');
  return [
    'unshare',
    '--mount',
    '--propagation',
    'private',
    'sh',
    '-c',
    `${script} && shift ${n} && exec "$@"`,
    'sh',
    ...paths,
    ...argv,
  ];
}
