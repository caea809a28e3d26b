// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these are Dockerfile ${VAR} substitutions, not templates
// Adversarial Dockerfiles: random lines of every instruction with arguments drawn from what breaks parsers
// (unterminated JSON, flags Docker refuses, heredocs without an end, variables with bad modifiers, stage
// references forward and to nothing, escape directives, continuation lines), then the build plan and the word
// expansion every stage does. Each file is either planned and expanded, or refused with one DockerfileError
// naming Dockerfile:line; never a TypeError from inside the parser.
import test from 'ava';
import fc from 'fast-check';
import { DockerfileError, parseDockerfile } from '../../pkg/build/dockerfile.ts';
import { planBuild, StageScope } from '../../pkg/build/expand.ts';

// Docker's instructions, one in lower case, and one that is none.
const KEYWORDS = (
  'FROM RUN COPY ADD ENV LABEL ARG WORKDIR USER STOPSIGNAL EXPOSE VOLUME ENTRYPOINT CMD SHELL HEALTHCHECK ' +
  'ONBUILD MAINTAINER from BOGUS'
).split(' ');

const WORDS = [
  'busybox',
  'scratch',
  'AS',
  'build',
  '0',
  '7',
  '--platform=linux/amd64',
  '--from=build',
  '--from=9',
  '--chown=1:1',
  '--chmod=755',
  '--chmod=9z',
  '--link',
  '--bogus=x',
  '--mount=type=cache,target=/c',
  '--interval=5s',
  '--retries=x',
  'NONE',
  'CMD',
  '["sh", "-c", "echo"]',
  '["unterminated',
  '[]',
  '[1, 2]',
  'A=1',
  'B="two words"',
  'C=',
  '=x',
  'A',
  '$A',
  '${A}',
  '${A:-d}',
  '${A:+x}',
  '${A:?gone}',
  '${A',
  '${!A}',
  '\\',
  '`',
  '<<EOF',
  '<<-EOT',
  'EOF',
  '/app',
  '../..',
  '80/tcp',
  '80/xyz',
  'SIGKILL',
  '"',
  "'",
  '#',
  '',
];

const line = fc.oneof(
  {
    weight: 8,
    arbitrary: fc
      .tuple(fc.constantFrom(...KEYWORDS), fc.array(fc.constantFrom(...WORDS), { maxLength: 4 }))
      .map(([k, args]) => [k, ...args].join(' ')),
  },
  { weight: 1, arbitrary: fc.constantFrom('# escape=`', '# syntax=docker/dockerfile:1', '', '  ', 'EOF') },
  { weight: 1, arbitrary: fc.string({ maxLength: 20 }) },
);
const dockerfile = fc
  .tuple(
    fc.boolean(),
    fc.array(line, { minLength: 0, maxLength: 8 }),
    fc.array(fc.constantFrom(' \\', ''), { maxLength: 8 }),
  )
  .map(([from, lines, continuations]) =>
    (from ? ['FROM busybox AS build', ...lines] : lines)
      .map((l, i) => l + (continuations[i] ?? ''))
      .join('\n'),
  );

/** Parses, plans and expands every stage; returns how it ended. */
function parsePlanExpand(text: string): 'planned' | 'refused' {
  try {
    const df = parseDockerfile(text);
    const plan = planBuild(df, { buildArgs: { A: 'given' } });
    for (const stage of plan.stages) {
      const scope = new StageScope(df, plan.globals, { A: 'given' }, ['PATH=/bin', 'A']);
      for (const instr of stage.instructions) scope.apply(instr);
    }
    return 'planned';
  } catch (err) {
    if (!(err instanceof DockerfileError)) throw err;
    if (!/^Dockerfile:\d+: /.test(err.message) || err.message.includes('\n'))
      throw new Error(`not a one-line positioned error: ${JSON.stringify(err.message)}`);
    const lines = text.split('\n').length;
    if (err.line < 1 || err.line > Math.max(lines, 1))
      throw new Error(`error line ${err.line} outside the file's ${lines} lines: ${err.message}`);
    return 'refused';
  }
}

test('random Dockerfiles: planned and expanded, or one DockerfileError naming a line of the file', (t) => {
  const seen = { planned: 0, refused: 0 };
  fc.assert(
    fc.property(dockerfile, (text) => {
      seen[parsePlanExpand(text)]++;
    }),
    { numRuns: 1500 },
  );
  t.log(seen);
  t.true(seen.planned > 0 && seen.refused > 0, 'both outcomes were exercised');
});

test('random bytes as a Dockerfile: a DockerfileError or a plan', (t) => {
  fc.assert(
    fc.property(fc.string({ maxLength: 300 }), (text) => {
      parsePlanExpand(text);
    }),
    { numRuns: 500 },
  );
  t.is(parsePlanExpand('FROM busybox\nRUN true\n'), 'planned');
});
