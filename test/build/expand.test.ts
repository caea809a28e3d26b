// biome-ignore-all lint/suspicious/noTemplateCurlyInString: Dockerfile variables, not templates
import test from 'ava';
import { DockerfileError, type Instruction, parseDockerfile } from '../../pkg/build/dockerfile.ts';
import {
  ExpansionError,
  expandWord,
  planBuild,
  StageScope,
  unconsumedBuildArgs,
} from '../../pkg/build/expand.ts';

const vars: Record<string, string> = { A: 'a', EMPTY: '', SPACE: 'x y', PATH: '/usr/bin' };
const lookup = (n: string) => vars[n];

// Docker's reference ("Environment replacement") and BuildKit's shell/lex tests.
const words: [string, string][] = [
  ['$A', 'a'],
  ['${A}', 'a'],
  ['${A}b', 'ab'],
  ['$Ab', ''],
  ['$UNSET', ''],
  ['${UNSET:-word}', 'word'],
  ['${EMPTY:-word}', 'word'],
  ['${EMPTY-word}', ''],
  ['${A:-word}', 'a'],
  ['${A:+word}', 'word'],
  ['${UNSET:+word}', ''],
  ['${EMPTY:+word}', ''],
  ['${EMPTY+word}', 'word'],
  ['${UNSET:-$A/x}', 'a/x'],
  ['\\$A', '$A'],
  ['\\${A}', '${A}'],
  ["'$A'", '$A'],
  ['"$A"', 'a'],
  ['"\\$A"', '$A'],
  ['"a \\"q\\" b"', 'a "q" b'],
  ['"c:\\dir"', 'c:\\dir'],
  ['"$SPACE"', 'x y'],
  ['$', '$'],
  ['a$', 'a$'],
  ['$-', '$-'],
  ['${PATH}:/bin', '/usr/bin:/bin'],
  ['foo\\ bar', 'foo bar'],
];

for (const [word, expected] of words) {
  test(`expandWord ${JSON.stringify(word)} → ${JSON.stringify(expected)}`, (t) => {
    t.is(expandWord(word, lookup), expected);
  });
}

test('expandWord with the backtick escape leaves backslashes alone', (t) => {
  t.is(expandWord('c:\\dir\\`$A', lookup, '`'), 'c:\\dir\\$A');
});

test('expandWord errors: unterminated quotes, bad substitution, ${X:?message}', (t) => {
  t.throws(() => expandWord('"abc', lookup), { instanceOf: ExpansionError, message: /double-quote/ });
  t.throws(() => expandWord("'abc", lookup), { instanceOf: ExpansionError, message: /single-quote/ });
  t.throws(() => expandWord('${}', lookup), { instanceOf: ExpansionError, message: /bad substitution/ });
  t.throws(() => expandWord('${A', lookup), { instanceOf: ExpansionError, message: /missing '}'/ });
  t.throws(() => expandWord('${UNSET:?need it}', lookup), { message: 'UNSET: need it' });
  t.is(expandWord('${A:?need it}', lookup), 'a');
});

/** Runs every instruction of the last stage through a StageScope; returns the expanded ones. */
function expandStage(text: string, buildArgs: Record<string, string> = {}, imageEnv: string[] = []) {
  const df = parseDockerfile(text);
  const plan = planBuild(df, { buildArgs });
  const scope = new StageScope(df, plan.globals, buildArgs, imageEnv);
  return { scope, out: plan.target.instructions.map((i) => scope.apply(i)) };
}

function pick<K extends Instruction['kind']>(out: Instruction[], kind: K): (Instruction & { kind: K })[] {
  return out.filter((i): i is Instruction & { kind: K } => i.kind === kind);
}

test('ENV: values expand with the variables before the instruction (Docker: def=hello, ghi=bye)', (t) => {
  const { out } = expandStage('FROM scratch\nENV abc=hello\nENV abc=bye def=$abc\nENV ghi=$abc\n');
  t.deepEqual(
    pick(out, 'ENV').map((e) => e.pairs),
    [
      [{ key: 'abc', value: 'hello' }],
      [
        { key: 'abc', value: 'bye' },
        { key: 'def', value: 'hello' },
      ],
      [{ key: 'ghi', value: 'bye' }],
    ],
  );
});

test('ENV wins over ARG of the same name; ARG default yields to --build-arg', (t) => {
  const { scope, out } = expandStage(
    'FROM scratch\nARG CONT_IMG_VER\nENV CONT_IMG_VER=${CONT_IMG_VER:-v1.0.0}\nARG X=default\nWORKDIR /$X/$CONT_IMG_VER\n',
    { CONT_IMG_VER: 'v2.0.1', X: 'given' },
  );
  t.is(pick(out, 'WORKDIR')[0]?.value, '/given/v2.0.1');
  t.true(scope.runEnv().includes('CONT_IMG_VER=v2.0.1'));
  t.true(scope.runEnv().includes('X=given'));
});

test('an ARG is visible only after its declaration, and only in its stage', (t) => {
  const { out } = expandStage('FROM scratch AS a\nARG V=1\nFROM scratch\nUSER u$V\nARG V=2\nLABEL v=$V\n');
  t.is(pick(out, 'USER')[0]?.value, 'u');
  t.deepEqual(pick(out, 'LABEL')[0]?.pairs, [{ key: 'v', value: '2' }]);
});

test('global ARGs: usable in FROM; inside a stage only after `ARG NAME` re-declares them', (t) => {
  const text = 'ARG TAG=1.36\nFROM busybox:$TAG\nUSER a$TAG\nARG TAG\nUSER b$TAG\n';
  const df = parseDockerfile(text);
  const plan = planBuild(df);
  t.deepEqual(plan.target.base, { kind: 'image', ref: 'busybox:1.36' });
  const { out } = expandStage(text);
  t.deepEqual(
    pick(out, 'USER').map((u) => u.value),
    ['a', 'b1.36'],
  );
  t.deepEqual(planBuild(df, { buildArgs: { TAG: 'musl' } }).target.base, {
    kind: 'image',
    ref: 'busybox:musl',
  });
});

test('predefined proxy ARGs need no declaration; unused build args are reported', (t) => {
  const { scope } = expandStage('FROM scratch\nARG USED\n', {
    HTTP_PROXY: 'http://p:3128',
    USED: '1',
    UNUSED: '2',
  });
  t.true(scope.runEnv().includes('HTTP_PROXY=http://p:3128'));
  const df = parseDockerfile('FROM scratch\nARG USED\n');
  const plan = planBuild(df);
  const consumed = new Set<string>();
  const s = new StageScope(df, plan.globals, { USED: '1', UNUSED: '2', http_proxy: 'x' }, [], consumed);
  for (const i of plan.target.instructions) s.apply(i);
  t.deepEqual(unconsumedBuildArgs({ USED: '1', UNUSED: '2', http_proxy: 'x' }, plan.globals, consumed), [
    'UNUSED',
  ]);
});

test('platform ARGs are predefined in the global scope', (t) => {
  const df = parseDockerfile('FROM busybox:$TARGETARCH\n');
  const plan = planBuild(df, { platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } });
  t.deepEqual(plan.target.base, { kind: 'image', ref: 'busybox:arm64' });
  t.is(plan.globals.get('TARGETPLATFORM'), 'linux/arm64/v8');
});

test('COPY/ADD words, --chown and --from expand; RUN, CMD and HEALTHCHECK are left to the shell', (t) => {
  const { out } = expandStage(
    'FROM scratch\nENV D=/dst U=1000 F=*.txt\nCOPY --chown=$U:$U $F "${D}/" \nRUN echo $D\nCMD echo $D\n',
  );
  t.like(pick(out, 'COPY')[0], { sources: ['*.txt'], dest: '/dst/', chown: '1000:1000' });
  t.deepEqual(pick(out, 'RUN')[0]?.command, { form: 'shell', command: 'echo $D' });
  t.deepEqual(pick(out, 'CMD')[0]?.command, { form: 'shell', command: 'echo $D' });
});

test('COPY heredoc bodies expand unless the delimiter is quoted', (t) => {
  const { out } = expandStage("FROM scratch\nENV N=x\nCOPY <<A <<'B' /d/\n$N\nA\n$N\nB\n");
  t.deepEqual(
    pick(out, 'COPY')[0]?.heredocs.map((h) => h.content),
    ['x\n', '$N\n'],
  );
  t.deepEqual(pick(out, 'COPY')[0]?.sources, ['<<A', '<<B']);
});

test('the base image Env is visible to expansion', (t) => {
  const { out } = expandStage('FROM scratch\nWORKDIR $HOME/app\n', {}, ['HOME=/root', 'PATH=/bin']);
  t.is(pick(out, 'WORKDIR')[0]?.value, '/root/app');
});

test('an expansion error names the line', (t) => {
  t.throws(() => expandStage('FROM scratch\n\nUSER ${X:?is required}\n'), {
    instanceOf: DockerfileError,
    message: 'Dockerfile:3: X: is required',
  });
});

const multiStage = `FROM busybox AS base
RUN true
FROM base AS build
RUN make
FROM busybox AS unused
RUN sleep 100
FROM scratch AS tools
FROM scratch
COPY --from=build /out /
COPY --from=0 /etc/passwd /
COPY --from=alpine:3 /bin/sh /
`;

test('stages: the target needs only its base and COPY --from stages; the rest is skipped', (t) => {
  const plan = planBuild(parseDockerfile(multiStage));
  t.is(plan.stages.length, 5);
  t.deepEqual(plan.order, [0, 1, 4]);
  t.deepEqual(plan.stages[1]?.base, { kind: 'stage', index: 0 });
  t.deepEqual(plan.stages[3]?.base, { kind: 'scratch' });
  t.deepEqual(plan.target.needs, [1, 0]);
});

test('--target picks a stage by name (case-insensitive) and builds only what it needs', (t) => {
  const plan = planBuild(parseDockerfile(multiStage), { target: 'BUILD' });
  t.is(plan.target.index, 1);
  t.deepEqual(plan.order, [0, 1]);
  t.throws(() => planBuild(parseDockerfile(multiStage), { target: 'nope' }), {
    message: /target stage "nope" could not be found/,
  });
});

test('stage reference errors: a later index, a duplicate name', (t) => {
  t.throws(() => planBuild(parseDockerfile('FROM scratch\nCOPY --from=1 /a /b\nFROM scratch\n')), {
    message: /^Dockerfile:2: invalid stage index 1/,
  });
  t.throws(() => planBuild(parseDockerfile('FROM scratch AS a\nFROM scratch AS a\n')), {
    message: /^Dockerfile:2: duplicate stage name "a"/,
  });
});
