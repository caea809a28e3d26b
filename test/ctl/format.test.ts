// The docker CLI's ways of printing: sizes, ages, tables and --format templates.
import test from 'ava';
import { sinceUnixNano } from '../../pkg/ctl/commands/events.ts';
import { formatTable } from '../../pkg/ctl/format/table.ts';
import { TemplateError, templateFormatter } from '../../pkg/ctl/format/template.ts';
import { createdSince, humanDuration, humanSize, shortId } from '../../pkg/ctl/format/units.ts';

test('sizes in decimal units with three significant digits, as go-units', (t) => {
  t.is(humanSize(0), '0B');
  t.is(humanSize(999), '999B');
  t.is(humanSize(1234), '1.23kB');
  t.is(humanSize(4_264_000), '4.26MB');
  t.is(humanSize(987_654_321), '988MB');
  t.is(humanSize(1.5e12), '1.5TB');
});

test('ages in docker words', (t) => {
  const s = 1000;
  t.is(humanDuration(500), 'Less than a second');
  t.is(humanDuration(1 * s), '1 second');
  t.is(humanDuration(59 * s), '59 seconds');
  t.is(humanDuration(61 * s), 'About a minute');
  t.is(humanDuration(45 * 60 * s), '45 minutes');
  t.is(humanDuration(3600 * s), 'About an hour');
  t.is(humanDuration(47 * 3600 * s), '47 hours');
  t.is(humanDuration(3 * 86400 * s), '3 days');
  t.is(humanDuration(20 * 86400 * s), '2 weeks');
  t.is(humanDuration(90 * 86400 * s), '3 months');
  t.is(humanDuration(800 * 86400 * s), '2 years');
  t.is(createdSince(0), 'N/A');
  t.is(createdSince(1000, 1000 * 1000 + 2 * 86400 * s), '2 days ago');
  t.is(shortId(`sha256:${'ab'.repeat(32)}`), 'abababababab');
  t.is(shortId('sha256:x', true), 'sha256:x');
});

test("tables: tabwriter's min width 10 and padding 3, the last column unpadded", (t) => {
  t.is(
    formatTable([
      ['A', 'LONG HEADER', 'Z'],
      ['xxxxxxxxxxxx', 'b', 'c'],
    ]),
    'A              LONG HEADER   Z\nxxxxxxxxxxxx   b             c',
  );
});

test('templates: fields, nesting, json, join, table headers; errors before any output', (t) => {
  const item = { ID: 'abc', Repo: 'busybox', Tags: ['a', 'b'], Config: { Env: ['X=1'] }, Labels: { k: 'v' } };
  t.is(templateFormatter('{{.Repo}}:{{.ID}}').render([item]), 'busybox:abc\n');
  t.is(
    templateFormatter('{{json .Tags}} {{join .Tags ","}} {{.Config.Env}} {{.Labels}}').render([item]),
    '["a","b"] a,b [X=1] map[k:v]\n',
  );
  t.is(templateFormatter('{{upper .Repo}}\\t{{lower .ID}}').render([item]), 'BUSYBOX\tabc\n');
  t.is(templateFormatter('json').render([item, item]), `${JSON.stringify(item)}\n${JSON.stringify(item)}\n`);
  t.is(templateFormatter('{{json .}}').render([{ a: 1 }]), '{"a":1}\n');
  t.is(
    templateFormatter('table {{.ID}}\\t{{.Repo}}', { ID: 'IMAGE ID' }).render([item]),
    'IMAGE ID   REPO\nabc        busybox\n',
  );
  t.throws(() => templateFormatter('{{.ID'), { instanceOf: TemplateError, message: /unclosed action/ });
  t.throws(() => templateFormatter('{{frob .ID}}'), {
    instanceOf: TemplateError,
    message: /function "frob" not defined/,
  });
  t.throws(() => templateFormatter('{{ID}}'), { instanceOf: TemplateError });
  t.throws(() => templateFormatter('{{.Nope}}').render([item]), { message: /can't evaluate field Nope/ });
});

test('events --since: Unix seconds, RFC 3339, durations back from now', (t) => {
  t.is(sinceUnixNano('1700000000'), 1_700_000_000_000_000_000n);
  t.is(sinceUnixNano('1700000000.5'), 1_700_000_000_500_000_000n);
  t.is(sinceUnixNano('2024-05-01T10:00:00Z'), BigInt(Date.parse('2024-05-01T10:00:00Z')) * 1_000_000n);
  t.is(sinceUnixNano('1h30m', 10_000_000), BigInt(10_000_000 - 5_400_000) * 1_000_000n);
  t.throws(() => sinceUnixNano('yesterday'), { message: /expected a Unix time/ });
});
