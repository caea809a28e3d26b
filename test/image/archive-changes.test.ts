import test from 'ava';
import { applyChanges } from '../../pkg/image/archive-changes.ts';

test('changes in Dockerfile syntax set the config as a Dockerfile would', (t) => {
  t.deepEqual(
    applyChanges([
      'CMD echo hi',
      'ENTRYPOINT ["/bin/busybox"]',
      'ENV PATH /bin:/usr/bin',
      'ENV A=1 B="two words" C=it\\ works',
      'ENV A=3',
      "LABEL maintainer='me' version=1.0",
      'EXPOSE 8080/TCP 53/udp 22',
      'VOLUME ["/data", "/logs"]',
      'VOLUME /cache',
      'USER 1000:1000',
      'WORKDIR /srv',
      'STOPSIGNAL SIGINT',
      'cmd ["sh"]',
    ]),
    {
      Cmd: ['sh'],
      Entrypoint: ['/bin/busybox'],
      Env: ['PATH=/bin:/usr/bin', 'B=two words', 'C=it works', 'A=3'],
      Labels: { maintainer: 'me', version: '1.0' },
      ExposedPorts: { '8080/tcp': {}, '53/udp': {}, '22/tcp': {} },
      Volumes: { '/data': {}, '/logs': {}, '/cache': {} },
      User: '1000:1000',
      WorkingDir: '/srv',
      StopSignal: 'SIGINT',
    },
  );
  t.deepEqual(applyChanges(['CMD echo hi']).Cmd, ['/bin/sh', '-c', 'echo hi']);
});

test('a change that is not a supported instruction is a clear error', (t) => {
  const cases: [string, RegExp][] = [
    ['RUN rm -rf /', /RUN cannot be changed/],
    ['CMD', /expected INSTRUCTION ARGUMENTS/],
    ['CMD ["sh", 1]', /not a JSON array of strings/],
    ['EXPOSE 70000', /invalid port "70000"/],
    ['EXPOSE http', /invalid port "http"/],
    ['LABEL novalue', /expected KEY=VALUE/],
    ['USER a b', /expected one value/],
    ['ENV A="open', /unterminated quote/],
  ];
  for (const [change, message] of cases) {
    t.throws(() => applyChanges([change]), { name: 'ArchiveError', message }, change);
  }
});
