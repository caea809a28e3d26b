import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { CopyOptionError, parseCopyMode, resolveCopyOwner } from '../../pkg/build/copy-options.ts';
import { withTempDir } from '../helpers/tmp.ts';

test('--chown: names from the stage rootfs; a user alone gives GID = UID (Docker documents this)', async (t) => {
  await withTempDir(async (root) => {
    mkdirSync(join(root, 'etc'));
    writeFileSync(join(root, 'etc/passwd'), 'root:x:0:0::/root:/bin/sh\napp:x:1000:50::/srv:/bin/sh\n');
    writeFileSync(join(root, 'etc/group'), 'root:x:0:\nstaff:x:50:\nweb:x:33:\n');
    t.deepEqual(resolveCopyOwner('55', root), { uid: 55, gid: 55 });
    t.deepEqual(resolveCopyOwner('55:66', root), { uid: 55, gid: 66 });
    t.deepEqual(resolveCopyOwner('app', root), { uid: 1000, gid: 1000 });
    t.deepEqual(resolveCopyOwner('app:web', root), { uid: 1000, gid: 33 });
    t.deepEqual(resolveCopyOwner('10:staff', root), { uid: 10, gid: 50 });
    t.throws(() => resolveCopyOwner('nobody', root), {
      instanceOf: CopyOptionError,
      message: /^--chown=nobody: unable to find user nobody/,
    });
    t.throws(() => resolveCopyOwner('app:nogroup', root), { message: /unable to find group nogroup/ });
  });
});

test('--chmod: octal modes only', (t) => {
  t.is(parseCopyMode('644'), 0o644);
  t.is(parseCopyMode('0755'), 0o755);
  t.is(parseCopyMode('4755'), 0o4755);
  t.throws(() => parseCopyMode('u+x'), { instanceOf: CopyOptionError, message: /expected an octal mode/ });
  t.throws(() => parseCopyMode('999'));
});
