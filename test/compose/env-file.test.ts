// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these are env files' ${VAR} substitutions, not templates
import test from 'ava';
import { parseEnvFile } from '../../pkg/compose/env-file.ts';

const shell: Record<string, string> = { FROM_SHELL: 'sh', OVER: 'shell-wins' };
const lookup = (name: string): string | undefined => shell[name];

test('the .env format: comments, export, quotes, escapes, substitution, bare names', (t) => {
  const text = [
    '# a comment',
    '',
    'PLAIN=value',
    'SPACED =  trimmed  ',
    'export EXPORTED=yes',
    "SINGLE='${PLAIN} stays'",
    'DOUBLE="line1\\nline2 ${PLAIN} \\$PLAIN \\"q\\""',
    'INLINE=abc # a comment',
    'HASH=a#b',
    'EMPTY=',
    'REF=${PLAIN}-${MISSING:-dflt}',
    'OVER=file',
    'SEES_OVER=${OVER}',
    'FROM_SHELL',
    'NOT_IN_SHELL',
    'MULTI="first',
    'second"',
  ].join('\n');
  t.deepEqual(Object.fromEntries(parseEnvFile(text, '.env', lookup)), {
    PLAIN: 'value',
    SPACED: 'trimmed',
    EXPORTED: 'yes',
    SINGLE: '${PLAIN} stays',
    DOUBLE: 'line1\nline2 value $PLAIN "q"',
    INLINE: 'abc',
    HASH: 'a#b',
    EMPTY: '',
    REF: 'value-dflt',
    OVER: 'file',
    SEES_OVER: 'shell-wins',
    FROM_SHELL: 'sh',
    MULTI: 'first\nsecond',
  });
});

test('a bad line names the file and line', (t) => {
  t.throws(() => parseEnvFile('A=1\nnot a var=2\n', 'web.env', lookup), {
    message: 'web.env:2: invalid variable name "not a var"',
  });
  t.throws(() => parseEnvFile("A='open\n", 'web.env', lookup), {
    message: 'web.env:1: unterminated single quote',
  });
});
