// tsnetctl compose config: no agent needed; the normalized project on stdout, errors with positions.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { parse } from 'yaml';
import { outcome, TSNETCTL } from '../ctl/cli.ts';
import { withTempDir } from '../helpers/tmp.ts';

const [node, ...args] = TSNETCTL;

test('compose config prints the normalized project; a bad file fails naming file:line:col', async (t) => {
  await withTempDir(async (dir) => {
    const file = join(dir, 'compose.yaml');
    writeFileSync(
      file,
      'name: demo\nservices:\n  web:\n    image: nginx\n    command: nginx -g "daemon off;"\n    ports: ["8080:80"]\n',
    );
    const ok = await outcome(node, [...args, 'compose', '-f', file, 'config'], {
      ...process.env,
      COMPOSE_PROJECT_NAME: '',
    });
    t.is(ok.code, 0, ok.stderr);
    const cfg = parse(ok.stdout);
    t.is(cfg.name, 'demo');
    t.deepEqual(cfg.services.web.command, ['nginx', '-g', 'daemon off;']);
    t.deepEqual(cfg.services.web.ports, [{ target: 80, published: '8080', protocol: 'tcp' }]);
    t.is(cfg.networks.default.name, 'demo_default');
    const names = await outcome(node, [...args, 'compose', '-f', file, 'config', '--services']);
    t.is(names.stdout, 'web\n');
    writeFileSync(file, 'services:\n  web:\n    image: nginx\n    ports: ["80:abc"]\n');
    const bad = await outcome(node, [...args, 'compose', '-f', file, 'config']);
    t.is(bad.code, 1);
    t.is(bad.stderr.trim(), `tsnetctl: ${file}:4:13: services.web.ports[0]: invalid port "80:abc"`);
  });
});
