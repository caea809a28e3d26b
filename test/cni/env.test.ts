import test from 'ava';
import {
  CniError,
  ErrorCode,
  K8S_ARG_KEYS,
  parseCniArgs,
  pickCniArgs,
  readCniEnv,
  validateContainerId,
  validateInterfaceName,
  validateNetworkName,
} from '../../pkg/cni/index.ts';

const ADD_ENV = {
  CNI_COMMAND: 'ADD',
  CNI_CONTAINERID: '68ece90bdda4a00f69e966d4c4e1667f',
  CNI_NETNS: '/run/netns/x',
  CNI_IFNAME: 'eth0',
  CNI_PATH: '/opt/cni/bin::/usr/lib/cni',
  CNI_ARGS: 'IgnoreUnknown=1;K8S_POD_NAME=distracted_austin',
};

function errorOf(fn: () => unknown): CniError {
  try {
    fn();
  } catch (err) {
    if (err instanceof CniError) return err;
    throw err;
  }
  throw new Error('expected a CniError');
}

test('ADD env is read and CNI_PATH split', (t) => {
  const env = readCniEnv(ADD_ENV);
  t.is(env.command, 'ADD');
  t.is(env.ifname, 'eth0');
  t.deepEqual(env.path, ['/opt/cni/bin', '/usr/lib/cni']);
  t.is(env.args, ADD_ENV.CNI_ARGS);
});

test('missing variables are code 4 and named like the reference does', (t) => {
  const e = errorOf(() => readCniEnv({ CNI_COMMAND: 'ADD' }));
  t.is(e.code, 4);
  t.is(e.msg, 'required env variables [CNI_CONTAINERID,CNI_NETNS,CNI_IFNAME,CNI_PATH] missing');
  t.is(
    errorOf(() => readCniEnv({ ...ADD_ENV, CNI_IFNAME: '' })).msg,
    'required env variables [CNI_IFNAME] missing',
  );
  t.is(errorOf(() => readCniEnv({ CNI_COMMAND: 'GC' })).msg, 'required env variables [CNI_PATH] missing');
  t.is(errorOf(() => readCniEnv({ CNI_COMMAND: 'BOGUS' })).msg, 'unknown CNI_COMMAND: BOGUS');
});

test('DEL does not need CNI_NETNS', (t) => {
  const env = readCniEnv({ ...ADD_ENV, CNI_COMMAND: 'DEL', CNI_NETNS: undefined });
  t.is(env.netns, '');
  t.is(readCniEnv({ ...ADD_ENV, CNI_COMMAND: 'DEL', CNI_NETNS: '' }).netns, '');
});

test('container IDs that could escape a directory are refused with code 4', (t) => {
  for (const id of ['../etc', '../../x', 'a/b', '.hidden', '-x', 'a b', 'a;b', 'ä']) {
    t.is(errorOf(() => validateContainerId(id)).code, ErrorCode.InvalidEnvironment, id);
    t.is(errorOf(() => readCniEnv({ ...ADD_ENV, CNI_CONTAINERID: id })).code, 4, id);
  }
  t.is(errorOf(() => validateContainerId('')).code, ErrorCode.UnknownContainer);
  t.notThrows(() => validateContainerId('abc-DEF_1.2'));
});

test('interface names: at most 15 bytes, no / : or whitespace, not . or .. (code 4)', (t) => {
  for (const name of ['', 'a'.repeat(16), 'eth/0', 'eth:0', 'eth 0', 'eth\t0', '.', '..', 'ééééééééé']) {
    t.is(errorOf(() => validateInterfaceName(name)).code, ErrorCode.InvalidEnvironment, JSON.stringify(name));
  }
  t.regex(errorOf(() => validateInterfaceName('a'.repeat(16))).msg, /too long/);
  for (const name of ['eth0', 'a'.repeat(15), 'net1.100', 'x-y_z'])
    t.notThrows(() => validateInterfaceName(name));
  t.is(errorOf(() => readCniEnv({ ...ADD_ENV, CNI_IFNAME: 'verylonginterface0' })).code, 4);
  t.is(errorOf(() => readCniEnv({ ...ADD_ENV, CNI_COMMAND: 'DEL', CNI_IFNAME: 'a/b' })).code, 4);
});

test('network names follow the container ID rule with code 7', (t) => {
  t.is(errorOf(() => validateNetworkName('../x')).code, ErrorCode.InvalidNetworkConfig);
  t.is(errorOf(() => validateNetworkName('')).code, ErrorCode.InvalidNetworkConfig);
  t.notThrows(() => validateNetworkName('ebnet'));
});

test('CNI_ARGS: pairs, known keys, IgnoreUnknown', (t) => {
  const pairs = parseCniArgs('IgnoreUnknown=1;K8S_POD_NAME=distracted_austin;IP=10.0.0.5;');
  t.deepEqual(
    [...pairs],
    [
      ['IgnoreUnknown', '1'],
      ['K8S_POD_NAME', 'distracted_austin'],
      ['IP', '10.0.0.5'],
    ],
  );
  t.deepEqual(pickCniArgs(pairs, ['IP']), { IP: '10.0.0.5' });
  t.deepEqual(pickCniArgs('K8S_POD_NAME=p;K8S_POD_NAMESPACE=ns', K8S_ARG_KEYS), {
    K8S_POD_NAME: 'p',
    K8S_POD_NAMESPACE: 'ns',
  });
  t.deepEqual(pickCniArgs('IgnoreUnknown=true;FOO=bar', ['IP']), {});
  t.deepEqual(pickCniArgs('', ['IP']), {});

  const unknown = errorOf(() => pickCniArgs('IP=10.0.0.5;FOO=bar', ['IP']));
  t.is(unknown.code, 4);
  t.regex(unknown.msg, /FOO/);
  t.is(errorOf(() => pickCniArgs('IgnoreUnknown=0;FOO=bar', ['IP'])).code, 4);
  t.is(errorOf(() => pickCniArgs('IgnoreUnknown=maybe', ['IP'])).code, 4);
  t.is(errorOf(() => parseCniArgs('novalue')).code, 4);
  t.is(errorOf(() => parseCniArgs('=x')).code, 4);
});
