// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these are compose files' ${VAR} substitutions, not templates
import test from 'ava';
import { InterpolationError, interpolate } from '../../pkg/compose/interpolate.ts';

const env: Record<string, string> = { SET: 'value', EMPTY: '', PORT: '8080', NESTED: 'inner' };
const lookup = (name: string): string | undefined => env[name];

const cases: [string, string][] = [
  ['plain text', 'plain text'],
  ['$SET', 'value'],
  ['${SET}', 'value'],
  ['a${SET}b', 'avalueb'],
  ['$SET-suffix', 'value-suffix'],
  ['${UNSET:-dflt}', 'dflt'],
  ['${EMPTY:-dflt}', 'dflt'],
  ['${EMPTY-dflt}', ''],
  ['${UNSET-dflt}', 'dflt'],
  ['${SET:-dflt}', 'value'],
  ['${UNSET:-${NESTED}}', 'inner'],
  ['${UNSET:-${ALSO_UNSET:-deep}}', 'deep'],
  ['${SET:+alt}', 'alt'],
  ['${UNSET:+alt}', ''],
  ['${EMPTY+alt}', 'alt'],
  ['$$SET', '$SET'],
  ['$${SET}', '${SET}'],
  ['cost: 5$', 'cost: 5$'],
  ['${PORT}:80', '8080:80'],
  ['${UNSET:-a b}', 'a b'],
  ['${UNSET:-}', ''],
];

for (const [input, expected] of cases) {
  test(`interpolate ${JSON.stringify(input)}`, (t) => {
    t.is(interpolate(input, lookup).value, expected);
  });
}

test('an unset variable without a default becomes empty and is reported once', (t) => {
  const r = interpolate('${NOPE}/$NOPE/${SET}', lookup);
  t.is(r.value, '//value');
  t.deepEqual(r.unset, ['NOPE']);
});

const errors: [string, RegExp][] = [
  ['${UNSET:?needs a value}', /^required variable UNSET is missing a value: needs a value$/],
  ['${EMPTY:?empty}', /^required variable EMPTY is missing a value: empty$/],
  ['${UNSET?}', /^required variable UNSET is missing a value$/],
  ['${SET', /missing "}"/],
  ['${}', /invalid variable name/],
  ['${1X}', /invalid variable name/],
  ['${SET:x}', /unexpected ":x"/],
];

for (const [input, message] of errors) {
  test(`interpolate ${JSON.stringify(input)} fails`, (t) => {
    const err = t.throws(() => interpolate(input, lookup), { instanceOf: InterpolationError });
    t.regex(err?.message ?? '', message);
  });
}

test('${VAR?err} accepts an empty value, ${VAR:?err} does not', (t) => {
  t.is(interpolate('${EMPTY?err}', lookup).value, '');
  t.throws(() => interpolate('${EMPTY:?err}', lookup), { instanceOf: InterpolationError });
});
