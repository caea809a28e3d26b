// Mount requests as Docker reads them: `-v`, `--mount` and `--tmpfs`, with Docker's error messages.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import type { MountSpec } from '../../pkg/container/create-spec.ts';
import {
  MountSpecError,
  parseBind,
  parseContainerMounts,
  parseMountSpec,
  parseTmpfs,
} from '../../pkg/volume/mount-spec.ts';
import { withTempDir } from '../helpers/tmp.ts';

const EXISTING = '/usr'; // a host directory every test machine has

test('-v: binds, named and anonymous volumes, modes', (t) => {
  t.deepEqual(parseBind(`${EXISTING}:/data`), {
    type: 'bind',
    source: EXISTING,
    target: '/data',
    readonly: false,
    propagation: 'rprivate',
    mode: '',
  });
  t.like(parseBind(`${EXISTING}:/data/:ro,rshared`), {
    type: 'bind',
    target: '/data',
    readonly: true,
    propagation: 'rshared',
    mode: 'ro,rshared',
  });
  t.like(parseBind(`${EXISTING}:/data:Z,rw`), { readonly: false, mode: 'Z,rw' });
  t.deepEqual(parseBind('cache:/var/cache'), {
    type: 'volume',
    name: 'cache',
    target: '/var/cache',
    readonly: false,
    noCopy: false,
    labels: {},
    mode: 'z',
  });
  t.like(parseBind('cache:/var/cache:ro,nocopy'), { readonly: true, noCopy: true, mode: 'ro,nocopy' });
  t.like(parseBind('/scratch'), { type: 'volume', name: '', target: '/scratch' });
});

const BIND_ERRORS: [string, string][] = [
  ['', "invalid volume specification: ''"],
  [':/x', "invalid volume specification: ':/x'"],
  ['a:b:c:d', "invalid volume specification: 'a:b:c:d'"],
  ['/data:rw', "invalid volume specification: '/data:rw'"],
  ['vol:', "invalid volume specification: 'vol:'"],
  ['vol:/x:rx', "invalid volume specification: 'vol:/x:rx': invalid mode: rx"],
  ['vol:/x:ro,rw', "invalid volume specification: 'vol:/x:ro,rw': invalid mode: ro,rw"],
  [
    'vol:/x:shared,private',
    "invalid volume specification: 'vol:/x:shared,private': invalid mode: shared,private",
  ],
  [
    'vol:data',
    `invalid volume specification: 'vol:data': invalid mount config for type "volume": invalid mount path: 'data' mount path must be absolute`,
  ],
  [
    `${EXISTING}:/`,
    `invalid volume specification: '${EXISTING}:/': invalid mount config for type "bind": invalid specification: destination can't be '/'`,
  ],
  [
    '/no/such/dir/here:/data',
    `invalid volume specification: '/no/such/dir/here:/data': invalid mount config for type "bind": bind source path does not exist: /no/such/dir/here`,
  ],
  [
    'vol:/x:rshared',
    `invalid volume specification: 'vol:/x:rshared': invalid mount config for type "volume": field BindOptions must not be specified`,
  ],
  [
    '/anon:ro',
    // a mode after a bare destination reads as SRC:MODE
    "invalid volume specification: '/anon:ro'",
  ],
  [
    'x:/data',
    'create x: "x" includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a host directory, use absolute path',
  ],
];

for (const [raw, message] of BIND_ERRORS) {
  test(`-v ${JSON.stringify(raw)} is refused`, (t) => {
    t.throws(() => parseBind(raw), { instanceOf: MountSpecError, message });
  });
}

test('--mount: bind, volume and tmpfs entries', (t) => {
  t.deepEqual(parseMountSpec({ Type: 'bind', Source: EXISTING, Target: '/h', ReadOnly: true }), {
    type: 'bind',
    source: EXISTING,
    target: '/h',
    readonly: true,
    propagation: 'rprivate',
    mode: '',
  });
  t.like(
    parseMountSpec({ Type: 'bind', Source: EXISTING, Target: '/h', BindOptions: { Propagation: 'rslave' } }),
    {
      propagation: 'rslave',
    },
  );
  t.deepEqual(
    parseMountSpec({
      Type: 'volume',
      Source: 'vol1',
      Target: '/v',
      VolumeOptions: { NoCopy: true, Labels: { a: 'b' } },
    }),
    {
      type: 'volume',
      name: 'vol1',
      target: '/v',
      readonly: false,
      noCopy: true,
      labels: { a: 'b' },
      mode: 'z',
    },
  );
  t.like(parseMountSpec({ Type: 'volume', Target: '/anon' }), { type: 'volume', name: '' });
  t.deepEqual(
    parseMountSpec({ Type: 'tmpfs', Target: '/t', TmpfsOptions: { SizeBytes: 1 << 20, Mode: 0o1777 } }),
    {
      type: 'tmpfs',
      target: '/t',
      readonly: false,
      sizeBytes: 1 << 20,
      mode: 0o1777,
      fromTmpfsFlag: false,
    },
  );
});

const MOUNT_ERRORS: [MountSpec, string][] = [
  [
    { Type: 'bind', Source: '/x-does-not-exist', Target: '/x' },
    'invalid mount config for type "bind": bind source path does not exist: /x-does-not-exist',
  ],
  [{ Type: 'bind', Target: '/x' }, 'invalid mount config for type "bind": field Source must not be empty'],
  [
    { Type: 'bind', Source: 'rel', Target: '/x' },
    'invalid mount config for type "bind": invalid mount path: \'rel\' mount path must be absolute',
  ],
  [
    { Type: 'bind', Source: EXISTING, Target: 'x' },
    'invalid mount config for type "bind": invalid mount path: \'x\' mount path must be absolute',
  ],
  [
    { Type: 'bind', Source: EXISTING, Target: '' },
    'invalid mount config for type "bind": field Target must not be empty',
  ],
  [
    { Type: 'bind', Source: EXISTING, Target: '/x', VolumeOptions: { NoCopy: true } },
    'invalid mount config for type "bind": field VolumeOptions must not be specified',
  ],
  [
    { Type: 'bind', Source: EXISTING, Target: '/x', BindOptions: { Propagation: 'sideways' } },
    'invalid mount config for type "bind": invalid propagation mode: "sideways"',
  ],
  [
    { Type: 'volume', Target: '/x', ReadOnly: true },
    'invalid mount config for type "volume": must not set ReadOnly mode when using anonymous volumes',
  ],
  [
    { Type: 'volume', Source: 'v1', Target: '/x', BindOptions: { Propagation: 'shared' } },
    'invalid mount config for type "volume": field BindOptions must not be specified',
  ],
  [
    { Type: 'tmpfs', Source: 'x', Target: '/x' },
    'invalid mount config for type "tmpfs": field Source must not be specified',
  ],
  [
    { Type: 'tmpfs', Target: '/x', TmpfsOptions: { SizeBytes: -1 } },
    'invalid mount config for type "tmpfs": invalid tmpfs size: -1',
  ],
  [{ Type: 'npipe' as 'bind', Target: '/x' }, 'invalid mount config for type "npipe": mount type unknown'],
];

for (const [spec, message] of MOUNT_ERRORS) {
  test(`--mount ${JSON.stringify(spec)} is refused`, (t) => {
    t.throws(() => parseMountSpec(spec), { instanceOf: MountSpecError, message });
  });
}

test('--tmpfs: size, mode, ro; options the spec already sets are accepted; others refused', (t) => {
  t.deepEqual(parseTmpfs('/run', 'rw,noexec,nosuid,size=65536k'), {
    type: 'tmpfs',
    target: '/run',
    readonly: false,
    sizeBytes: 65536 * 1024,
    fromTmpfsFlag: true,
  });
  t.like(parseTmpfs('/t/', 'size=64m,mode=1777,ro'), {
    target: '/t',
    sizeBytes: 64 << 20,
    mode: 0o1777,
    readonly: true,
  });
  t.like(parseTmpfs('/t', ''), { target: '/t', readonly: false });
  t.throws(() => parseTmpfs('t', ''), {
    message: 'invalid mount config for type "tmpfs": invalid mount path: \'t\' mount path must be absolute',
  });
  t.throws(() => parseTmpfs('/t', 'size=12x'), { message: /invalid tmpfs size "12x" for \/t/ });
  t.throws(() => parseTmpfs('/t', 'mode=999'), { message: /invalid tmpfs mode "999" for \/t/ });
  t.throws(() => parseTmpfs('/t', 'exec'), { message: /tmpfs option "exec" is not supported/ });
});

test('a whole spec: duplicates refused across -v, --mount and --tmpfs; image VOLUMEs fill in', async (t) => {
  await withTempDir(async (dir) => {
    mkdirSync(join(dir, 'src'));
    const dup = (HostConfig: object) => () => parseContainerMounts({ Image: 'x', HostConfig });
    t.throws(dup({ Binds: [`${dir}/src:/data`, 'v1:/data/'] }), {
      instanceOf: MountSpecError,
      message: 'Duplicate mount point: /data',
    });
    t.throws(dup({ Binds: ['v1:/data'], Mounts: [{ Type: 'volume', Source: 'v2', Target: '/data' }] }), {
      message: 'Duplicate mount point: /data',
    });
    t.throws(dup({ Binds: ['v1:/data'], Tmpfs: { '/data': '' } }), {
      message: 'Duplicate mount point: /data',
    });

    const requests = parseContainerMounts(
      { Image: 'x', HostConfig: { Binds: [`${dir}/src:/etc/app:ro`, 'v1:/data'], Tmpfs: { '/run': '' } } },
      ['/data', '/var/lib/db/', 'relative', '/'],
    );
    t.deepEqual(
      requests.map((r) => [
        r.type,
        r.target,
        r.type === 'volume' ? r.name : '',
        r.type === 'volume' && r.fromImage === true,
      ]),
      [
        ['bind', '/etc/app', '', false],
        ['volume', '/data', 'v1', false],
        ['tmpfs', '/run', '', false],
        ['volume', '/var/lib/db', '', true],
      ],
    );
  });
});
