// The container store: records persisted atomically, the name index (uniqueness, rename), finding by ID,
// name or unique prefix with Docker's errors, name validation and generated names.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { ContainerNotFoundError } from '../../pkg/container/handle.ts';
import { generateName, InvalidNameError, validateContainerName } from '../../pkg/container/names.ts';
import { type ContainerRecord, initialState } from '../../pkg/container/record.ts';
import {
  AmbiguousContainerError,
  ContainerStore,
  NameConflictError,
  newContainerId,
  RecordError,
} from '../../pkg/container/store.ts';
import { withTempDir } from '../helpers/tmp.ts';

function recordOf(id: string): Omit<ContainerRecord, 'name'> {
  return {
    version: 1,
    id,
    created: new Date().toISOString(),
    image: { ref: 'busybox:latest', id: 'sha256:aa' },
    spec: { Image: 'busybox' },
    config: {
      hostname: id.slice(0, 12),
      domainname: '',
      user: '',
      env: [],
      cmd: ['sh'],
      entrypoint: null,
      workingDir: '',
      labels: {},
      exposedPorts: {},
      stopSignal: 'SIGTERM',
      stopTimeout: 10,
    },
    state: initialState(),
    networkNames: ['none'],
    networks: [],
    mounts: [],
    runMounts: [],
    anonymousVolumes: [],
  };
}

test('names: Docker pattern, leading slash dropped, generated adjective_surname', (t) => {
  t.is(validateContainerName('/web.1_a-b'), 'web.1_a-b');
  for (const bad of ['-x', 'a', 'a b', 'x/y', '', 'é1'])
    t.throws(() => validateContainerName(bad), {
      instanceOf: InvalidNameError,
      message: /Invalid container name/,
    });
  for (let i = 0; i < 50; i++) {
    const name = generateName();
    t.regex(name, /^[a-z]+_[a-z]+$/);
    t.not(name, 'boring_wozniak');
    t.notThrows(() => validateContainerName(name));
  }
  t.regex(generateName(1), /^[a-z]+_[a-z]+\d$/);
});

test('records persist; names are unique; rename moves the name; find by ID, name, prefix', async (t) => {
  await withTempDir(async (dir) => {
    const store = new ContainerStore(join(dir, 'containers'));
    await store.open();
    const a = newContainerId();
    const b = `${a.slice(0, 4)}${newContainerId().slice(4)}`; // shares a 4-digit prefix with a
    await store.create(recordOf(a), 'web');
    const generated = await store.create(recordOf(b), '');
    t.regex(generated.name, /^[a-z]+_[a-z]+\d?$/);
    const conflict = await t.throwsAsync(store.create(recordOf(newContainerId()), '/web'), {
      instanceOf: NameConflictError,
    });
    t.is(
      conflict?.message,
      `Conflict. The container name "/web" is already in use by container "${a}". You have to remove (or rename) that container to be able to reuse that name.`,
    );
    t.is(store.find('web').id, a);
    t.is(store.find('/web').id, a);
    t.is(store.find(a.slice(0, 10)).id, a);
    t.is(store.find(a).id, a);
    t.throws(() => store.find(a.slice(0, 4)), {
      instanceOf: AmbiguousContainerError,
      message: /Multiple IDs found/,
    });
    t.throws(() => store.find('nope'), {
      instanceOf: ContainerNotFoundError,
      message: 'No such container: nope',
    });

    await store.rename(a, 'api');
    t.is(store.find('api').id, a);
    t.throws(() => store.find('web'), { instanceOf: ContainerNotFoundError });
    await t.throwsAsync(store.rename(a, 'api'), { instanceOf: RecordError });
    await t.throwsAsync(store.rename(a, generated.name), { instanceOf: NameConflictError });

    // a second store reads what the first wrote; a broken record is reported, not loaded
    const file = join(dir, 'containers', a, 'config.json');
    t.is((JSON.parse(readFileSync(file, 'utf8')) as ContainerRecord).name, 'api');
    const broken = newContainerId();
    await store.create(recordOf(broken), 'broken');
    writeFileSync(join(dir, 'containers', broken, 'config.json'), '{"half');
    const again = new ContainerStore(join(dir, 'containers'));
    const opened = await again.open();
    t.deepEqual(opened, { loaded: 2, broken: [broken] });
    t.is(again.find('api').id, a);

    await again.delete(a);
    t.false(existsSync(join(dir, 'containers', a)));
    t.throws(() => again.find('api'), { instanceOf: ContainerNotFoundError });
    t.throws(() => again.dirOf('../x'), { instanceOf: RecordError });
  });
});

test('concurrent creates of one name: exactly one wins', async (t) => {
  await withTempDir(async (dir) => {
    const store = new ContainerStore(join(dir, 'containers'));
    await store.open();
    const results = await Promise.allSettled(
      Array.from({ length: 5 }, () => store.create(recordOf(newContainerId()), 'same')),
    );
    t.is(results.filter((r) => r.status === 'fulfilled').length, 1);
    t.is(store.all().length, 1);
  });
});
