// Just enough of systemd's unit file rules to run an installed unit's ExecStart the way systemd would
// (systemd.service(5), systemd.exec(5)): sections of Key=Value lines, an EnvironmentFile of KEY=value lines,
// and ExecStart's variable expansion: `${VAR}` is one argument, a bare `$VAR` is split at whitespace.

export interface SystemdUnit {
  unit: Record<string, string>;
  service: Record<string, string>;
  install: Record<string, string>;
}

export function systemdUnit(text: string): SystemdUnit {
  const out: SystemdUnit = { unit: {}, service: {}, install: {} };
  let section: Record<string, string> | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const header = /^\[(\w+)\]$/.exec(line);
    if (header) {
      const name = (header[1] ?? '').toLowerCase();
      section = name === 'unit' || name === 'service' || name === 'install' ? out[name] : undefined;
      continue;
    }
    const eq = line.indexOf('=');
    if (section && eq > 0) section[line.slice(0, eq).trim()] = line.slice(eq + 1).trim();
  }
  return out;
}

export function systemdEnvironmentFile(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    const m = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (!m || line.startsWith('#')) continue;
    env[m[1] ?? ''] = (m[2] ?? '').replace(/^"(.*)"$/, '$1');
  }
  return env;
}

/** ExecStart's argv (no quoting in our unit: words are separated by whitespace). */
export function systemdArgv(execStart: string, env: Record<string, string>): string[] {
  const argv: string[] = [];
  for (const word of execStart.trim().split(/\s+/)) {
    const bare = /^\$([A-Za-z_][A-Za-z0-9_]*)$/.exec(word);
    if (bare) {
      argv.push(...(env[bare[1] ?? ''] ?? '').split(/\s+/).filter(Boolean));
      continue;
    }
    argv.push(word.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_, name: string) => env[name] ?? ''));
  }
  return argv;
}
