import test from 'ava';
import { DockerfileError, type Instruction, parseDockerfile } from '../../pkg/build/dockerfile.ts';

/** The instructions after the first FROM, without source text (compared field by field). */
function body(text: string): Omit<Instruction, 'text'>[] {
  return parseDockerfile(`FROM scratch\n${text}`)
    .instructions.slice(1)
    .map(({ text: _text, ...rest }) => rest as Omit<Instruction, 'text'>);
}

const cases: [string, string, unknown][] = [
  [
    'RUN shell form',
    'RUN echo hi',
    [{ line: 2, kind: 'RUN', command: { form: 'shell', command: 'echo hi' }, heredocs: [], flags: {} }],
  ],
  [
    'RUN exec form keeps JSON strings whole',
    'RUN ["sh", "-c", "echo \\"a b\\""]',
    [
      {
        line: 2,
        kind: 'RUN',
        command: { form: 'exec', args: ['sh', '-c', 'echo "a b"'] },
        heredocs: [],
        flags: {},
      },
    ],
  ],
  [
    'RUN that is not valid JSON is the shell form',
    "RUN [ -f /x ] && echo 'y'",
    [
      {
        line: 2,
        kind: 'RUN',
        command: { form: 'shell', command: "[ -f /x ] && echo 'y'" },
        heredocs: [],
        flags: {},
      },
    ],
  ],
  [
    'a continuation joins lines; a comment line inside is dropped',
    'RUN echo a \\\n# inside\n  b',
    [{ line: 2, kind: 'RUN', command: { form: 'shell', command: 'echo a   b' }, heredocs: [], flags: {} }],
  ],
  [
    'RUN <<EOF runs the body as the script',
    'RUN <<EOF\necho one\necho two\nEOF',
    [
      {
        line: 2,
        kind: 'RUN',
        command: { form: 'shell', command: 'echo one\necho two\n' },
        heredocs: [{ name: 'EOF', content: 'echo one\necho two\n', expand: true, stripTabs: false }],
        flags: {},
      },
    ],
  ],
  [
    'COPY flags, wildcard source, directory destination',
    'COPY --from=build --chown=1:2 --chmod=0644 a *.txt /dst/',
    [
      {
        line: 2,
        kind: 'COPY',
        sources: ['a', '*.txt'],
        dest: '/dst/',
        from: 'build',
        chown: '1:2',
        chmod: '0644',
        link: false,
        heredocs: [],
      },
    ],
  ],
  [
    'COPY JSON form keeps spaces in names',
    'COPY ["a b", "/c d/"]',
    [{ line: 2, kind: 'COPY', sources: ['a b'], dest: '/c d/', link: false, heredocs: [] }],
  ],
  [
    'COPY heredoc with a quoted delimiter does not expand',
    "COPY <<'EOT' /etc/motd\nhello $USER\nEOT",
    [
      {
        line: 2,
        kind: 'COPY',
        sources: ['<<EOT'],
        dest: '/etc/motd',
        link: false,
        heredocs: [{ name: 'EOT', content: 'hello $USER\n', expand: false, stripTabs: false }],
      },
    ],
  ],
  [
    'ENV both syntaxes, values raw for expansion',
    'ENV A=1 B="two words"\nENV OLD value with spaces',
    [
      {
        line: 2,
        kind: 'ENV',
        pairs: [
          { key: 'A', value: '1' },
          { key: 'B', value: '"two words"' },
        ],
      },
      { line: 3, kind: 'ENV', pairs: [{ key: 'OLD', value: 'value with spaces' }] },
    ],
  ],
  [
    'ARG with and without default',
    'ARG A B=2',
    [{ line: 2, kind: 'ARG', args: [{ name: 'A' }, { name: 'B', default: '2' }] }],
  ],
  [
    'HEALTHCHECK options',
    'HEALTHCHECK --interval=5s --timeout=3s --start-period=1m --retries=4 CMD ["true"]',
    [
      {
        line: 2,
        kind: 'HEALTHCHECK',
        test: {
          command: { form: 'exec', args: ['true'] },
          options: { interval: '5s', timeout: '3s', startPeriod: '1m', retries: '4' },
        },
      },
    ],
  ],
  ['HEALTHCHECK NONE', 'HEALTHCHECK NONE', [{ line: 2, kind: 'HEALTHCHECK', test: 'NONE' }]],
  ['SHELL', 'SHELL ["/bin/bash", "-c"]', [{ line: 2, kind: 'SHELL', shell: ['/bin/bash', '-c'] }]],
  [
    'metadata instructions',
    'WORKDIR /app\nUSER 1000:1000\nSTOPSIGNAL SIGINT\nEXPOSE 80 53/udp\nVOLUME ["/data", "/logs"]\nCMD ["sh"]\nENTRYPOINT /bin/app -v',
    [
      { line: 2, kind: 'WORKDIR', value: '/app' },
      { line: 3, kind: 'USER', value: '1000:1000' },
      { line: 4, kind: 'STOPSIGNAL', value: 'SIGINT' },
      { line: 5, kind: 'EXPOSE', values: ['80', '53/udp'] },
      { line: 6, kind: 'VOLUME', values: ['/data', '/logs'] },
      { line: 7, kind: 'CMD', command: { form: 'exec', args: ['sh'] } },
      { line: 8, kind: 'ENTRYPOINT', command: { form: 'shell', command: '/bin/app -v' } },
    ],
  ],
];

for (const [title, text, expected] of cases) {
  test(`parse: ${title}`, (t) => {
    t.deepEqual(body(text), expected as Omit<Instruction, 'text'>[]);
  });
}

test('FROM: platform flag, stage name lower-cased, ARG before FROM allowed', (t) => {
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a Dockerfile variable, not a template
  const df = parseDockerfile('ARG V=1\nFROM --platform=linux/amd64 busybox:${V} AS Build\n');
  t.like(df.instructions[1], {
    kind: 'FROM',
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a Dockerfile variable, not a template
    image: 'busybox:${V}',
    stageName: 'build',
    platform: 'linux/amd64',
    line: 2,
  });
});

test('keywords are case-insensitive; LABEL and ENV keep the legacy `KEY value` form', (t) => {
  const df = parseDockerfile('from busybox as b\nrun echo hi\nLABEL key some value\n');
  t.like(df.instructions[0], { kind: 'FROM', image: 'busybox', stageName: 'b' });
  t.like(df.instructions[1], { kind: 'RUN', command: { form: 'shell', command: 'echo hi' } });
  t.like(df.instructions[2], { kind: 'LABEL', pairs: [{ key: 'key', value: 'some value' }] });
  t.throws(() => parseDockerfile('FROM x\nENV A\n'), { message: 'Dockerfile:2: ENV A: missing "=value"' });
});

test('escape directive: the backtick continues lines and backslashes are literal', (t) => {
  const df = parseDockerfile('# escape=`\nFROM scratch\nRUN dir c:\\ `\n  /w\n');
  t.is(df.escape, '`');
  t.deepEqual((df.instructions[1] as Extract<Instruction, { kind: 'RUN' }>).command, {
    form: 'shell',
    command: 'dir c:\\   /w',
  });
});

test('the line number of a continued instruction is where it starts', (t) => {
  const df = parseDockerfile('FROM scratch\n\n# c\nENV A=1 \\\n  B=2\nUSER x\n');
  t.deepEqual(
    df.instructions.map((i) => i.line),
    [1, 4, 6],
  );
});

const errors: [string, string, RegExp][] = [
  [
    'unknown instruction',
    'FROM scratch\nCOPY a /\n\nCOPPY x y\n',
    /^Dockerfile:4: unknown instruction: COPPY$/,
  ],
  ['instruction before FROM', 'RUN true\nFROM scratch\n', /^Dockerfile:1: RUN before the first FROM/],
  [
    'COPY without destination',
    'FROM scratch\nCOPY onlyone\n',
    /^Dockerfile:2: COPY requires at least two arguments/,
  ],
  ['unknown flag', 'FROM scratch\nCOPY --frm=x a b\n', /^Dockerfile:2: COPY: unknown flag --frm/],
  [
    'SHELL not JSON',
    'FROM scratch\nSHELL /bin/bash -c\n',
    /^Dockerfile:2: SHELL requires the arguments to be a JSON array/,
  ],
  [
    'HEALTHCHECK bad subcommand',
    'FROM scratch\nHEALTHCHECK RUN x\n',
    /^Dockerfile:2: HEALTHCHECK: expected CMD or NONE/,
  ],
  [
    'HEALTHCHECK bad duration',
    'FROM scratch\nHEALTHCHECK --interval=5 CMD x\n',
    /^Dockerfile:2: HEALTHCHECK --interval: invalid duration/,
  ],
  ['FROM with extra words', 'FROM a b c\n', /^Dockerfile:1: FROM takes an image/],
  ['empty file', '# nothing\n', /^Dockerfile:1: the file has no instructions/],
  ['ONBUILD FROM', 'FROM scratch\nONBUILD FROM x\n', /^Dockerfile:2: ONBUILD may not trigger FROM/],
];

for (const [title, text, message] of errors) {
  test(`error: ${title}`, (t) => {
    const err = t.throws(() => parseDockerfile(text), { instanceOf: DockerfileError });
    t.regex(err?.message ?? '', message);
  });
}

test('the file name in errors is the one given (-f)', (t) => {
  t.throws(() => parseDockerfile('FROM x\nBAD y\n', 'build/Containerfile'), {
    message: 'build/Containerfile:2: unknown instruction: BAD',
  });
});
