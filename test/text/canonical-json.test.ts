import test from 'ava';
import { canonicalJson } from '../../pkg/text/canonical-json.ts';

test('keys in ordinal order at every depth, whatever order they were set in', (t) => {
  const a = { b: 1, a: { z: [1, { y: 2, x: 3 }], Z: 'upper first' } };
  const b = { a: { Z: 'upper first', z: [1, { x: 3, y: 2 }] }, b: 1 };
  t.is(canonicalJson(a), '{"a":{"Z":"upper first","z":[1,{"x":3,"y":2}]},"b":1}');
  t.is(canonicalJson(a), canonicalJson(b));
});

test('undefined members are left out; in arrays they are null, as in JSON', (t) => {
  t.is(canonicalJson({ a: undefined, b: null, c: [undefined, 1] }), '{"b":null,"c":[null,1]}');
  t.is(canonicalJson({ c: [undefined, 1] }), JSON.stringify({ c: [undefined, 1] }));
});

test('scalars and strings are written as JSON writes them', (t) => {
  for (const v of ['quote " and \\u00e9', 0, -1.5, true, null]) t.is(canonicalJson(v), JSON.stringify(v));
});
