import test from 'ava';
import {
  applyCommitChanges,
  ChangeError,
  historyEntry,
  type ImageRuntimeConfig,
  parseDuration,
  StageConfig,
} from '../../pkg/build/config.ts';
import { DockerfileError, parseDockerfile } from '../../pkg/build/dockerfile.ts';
import { planBuild, StageScope } from '../../pkg/build/expand.ts';

/** Builds the config of the last stage of `text` over `base`, as the builder will. */
function configOf(text: string, base: ImageRuntimeConfig = {}): StageConfig {
  const df = parseDockerfile(text);
  const plan = planBuild(df);
  const scope = new StageScope(df, plan.globals, {}, base.Env ?? []);
  const stage = new StageConfig(base);
  for (const instr of plan.target.instructions) stage.apply(scope.apply(instr));
  return stage;
}

test('CMD and ENTRYPOINT shell forms run under /bin/sh -c; exec forms are kept', (t) => {
  const { config } = configOf('FROM x\nENTRYPOINT ["/bin/app"]\nCMD --help\n');
  t.deepEqual(config.Entrypoint, ['/bin/app']);
  t.deepEqual(config.Cmd, ['/bin/sh', '-c', '--help']);
});

test('SHELL changes how later shell forms run', (t) => {
  const { config } = configOf('FROM x\nSHELL ["/bin/bash", "-eu", "-c"]\nCMD echo hi\n');
  t.deepEqual(config.Cmd, ['/bin/bash', '-eu', '-c', 'echo hi']);
  t.deepEqual(config.Shell, ['/bin/bash', '-eu', '-c']);
});

test('ENTRYPOINT resets a CMD inherited from the base image (Docker documents this)', (t) => {
  const { config } = configOf('FROM x\nENTRYPOINT ["/bin/app"]\n', { Cmd: ['sh'] });
  t.is(config.Cmd, null);
});

test('ENTRYPOINT keeps a CMD set earlier in the same stage', (t) => {
  const { config } = configOf('FROM x\nCMD ["-v"]\nENTRYPOINT ["/bin/app"]\n', { Cmd: ['sh'] });
  t.deepEqual(config.Cmd, ['-v']);
});

test('WORKDIR relative to the previous one, cleaned (Docker: /a/b/c)', (t) => {
  t.is(configOf('FROM x\nWORKDIR /a\nWORKDIR b\nWORKDIR c\n').config.WorkingDir, '/a/b/c');
  t.is(configOf('FROM x\nWORKDIR rel/../d/\n').config.WorkingDir, '/d');
  t.is(configOf('FROM x\nENV DIRPATH=/path\nWORKDIR $DIRPATH/$DIRNAME\n').config.WorkingDir, '/path');
});

test('ENV replaces an inherited variable in place and appends new ones', (t) => {
  const { config } = configOf('FROM x\nENV PATH=/opt/bin:$PATH NEW=1\n', { Env: ['PATH=/bin', 'HOME=/'] });
  t.deepEqual(config.Env, ['PATH=/opt/bin:/bin', 'HOME=/', 'NEW=1']);
});

test('EXPOSE normalises ports: default tcp, lower-case protocol, ranges', (t) => {
  const { config } = configOf('FROM x\nEXPOSE 80 53/UDP 8000-8002/tcp\n');
  t.deepEqual(Object.keys(config.ExposedPorts ?? {}).sort(), [
    '53/udp',
    '80/tcp',
    '8000/tcp',
    '8001/tcp',
    '8002/tcp',
  ]);
  t.throws(() => configOf('FROM x\nEXPOSE 80/icmp\n'), {
    instanceOf: DockerfileError,
    message: /^Dockerfile:2: EXPOSE/,
  });
  t.throws(() => configOf('FROM x\nEXPOSE 70000\n'), { message: /invalid port range/ });
});

test('VOLUME, LABEL, USER, STOPSIGNAL, ONBUILD', (t) => {
  const { config } = configOf(
    'FROM x\nVOLUME /data ["/not-json"\nVOLUME ["/logs"]\nLABEL a=1 "b c"="d e"\nLABEL a=2\nUSER app:app\nSTOPSIGNAL SIGINT\nONBUILD RUN make\n',
    { Labels: { base: 'yes' } },
  );
  // Not JSON: words, whose quotes expansion removes (Docker gives the same odd volume).
  t.deepEqual(Object.keys(config.Volumes ?? {}), ['/data', '[/not-json', '/logs']);
  t.deepEqual(config.Labels, { base: 'yes', a: '2', 'b c': 'd e' });
  t.is(config.User, 'app:app');
  t.is(config.StopSignal, 'SIGINT');
  t.deepEqual(config.OnBuild, ['RUN make']);
});

test("HEALTHCHECK: Docker's example becomes CMD-SHELL with nanosecond durations; NONE disables", (t) => {
  const { config } = configOf(
    'FROM x\nHEALTHCHECK --interval=5m --timeout=3s --retries=2 CMD curl -f http://localhost/ || exit 1\n',
  );
  t.deepEqual(config.Healthcheck, {
    Test: ['CMD-SHELL', 'curl -f http://localhost/ || exit 1'],
    Interval: 300e9,
    Timeout: 3e9,
    Retries: 2,
  });
  t.deepEqual(configOf('FROM x\nHEALTHCHECK CMD ["/bin/check", "-q"]\n').config.Healthcheck, {
    Test: ['CMD', '/bin/check', '-q'],
  });
  t.deepEqual(
    configOf('FROM x\nHEALTHCHECK NONE\n', { Healthcheck: { Test: ['CMD', 'x'] } }).config.Healthcheck,
    { Test: ['NONE'] },
  );
  t.throws(() => configOf('FROM x\nHEALTHCHECK --interval=10us CMD true\n'), {
    message: /^Dockerfile:2: HEALTHCHECK: interval cannot be less than 1ms/,
  });
});

test('parseDuration follows Go: units, fractions, sums', (t) => {
  t.is(parseDuration('1h2m3.5s'), 3723.5e9);
  t.is(parseDuration('250ms'), 250e6);
  t.throws(() => parseDuration('5'));
  t.throws(() => parseDuration('5s junk'));
});

test('the base config is not modified', (t) => {
  const base: ImageRuntimeConfig = { Env: ['A=1'], Labels: { l: '1' } };
  configOf('FROM x\nENV A=2\nLABEL l=2\n', base);
  t.deepEqual(base, { Env: ['A=1'], Labels: { l: '1' } });
});

test('history: #(nop) for config changes, the shell line for RUN with its build args, COPY names its sources', (t) => {
  const df = parseDockerfile('FROM x\nENV A=1\nRUN echo hi\nCOPY a b /d/\nRUN ["/bin/true"]\n');
  const [, env, run, copy, exec] = df.instructions;
  const created = new Date('2026-01-02T03:04:05Z');
  t.deepEqual(historyEntry(env!, { created }), {
    created: '2026-01-02T03:04:05.000Z',
    created_by: '/bin/sh -c #(nop)  ENV A=1',
    empty_layer: true,
  });
  t.deepEqual(historyEntry(run!, { created, args: new Map([['V', '2']]) }), {
    created: '2026-01-02T03:04:05.000Z',
    created_by: '|1 V=2 /bin/sh -c echo hi',
  });
  t.is(
    historyEntry(copy!, { created, sources: 'multi:abc' }).created_by,
    '/bin/sh -c #(nop) COPY multi:abc in /d/ ',
  );
  t.is(historyEntry(exec!, { created }).created_by, '/bin/true');
  t.is(historyEntry(run!, { created, emptyLayer: true }).empty_layer, true);
});

test("commit -c: Docker's instructions apply to the container config, variables from its Env", (t) => {
  const config = applyCommitChanges({ Env: ['HOME=/root'], Cmd: ['sh'] }, [
    'ENV APP=$HOME/app',
    'WORKDIR /srv',
    'EXPOSE 8080',
    'LABEL version=2',
    'USER nobody',
    'VOLUME /data',
    'CMD ["/bin/app", "--serve"]',
  ]);
  t.deepEqual(config, {
    Env: ['HOME=/root', 'APP=/root/app'],
    Cmd: ['/bin/app', '--serve'],
    WorkingDir: '/srv',
    ExposedPorts: { '8080/tcp': {} },
    Labels: { version: '2' },
    User: 'nobody',
    Volumes: { '/data': {} },
  });
});

test('commit -c: ENTRYPOINT resets the inherited CMD, as docker commit does', (t) => {
  t.deepEqual(applyCommitChanges({ Cmd: ['sh'] }, ['ENTRYPOINT /bin/app']), {
    Cmd: null,
    Entrypoint: ['/bin/sh', '-c', '/bin/app'],
  });
});

test('commit -c: RUN, COPY and unknown instructions are refused with the change named', (t) => {
  t.throws(() => applyCommitChanges({}, ['RUN rm -rf /']), {
    instanceOf: ChangeError,
    message: /^invalid change "RUN rm -rf \/": RUN is not allowed \(CMD, ENTRYPOINT/,
  });
  t.throws(() => applyCommitChanges({}, ['COPPY a b']), {
    instanceOf: ChangeError,
    message: 'invalid change "COPPY a b": unknown instruction: COPPY',
  });
  t.throws(() => applyCommitChanges({}, ['EXPOSE nope']), {
    message: /^invalid change "EXPOSE nope": EXPOSE: invalid port/,
  });
});
