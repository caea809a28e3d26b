// Building compose projects in memory for the compose tests: one file's text, an environment, no disk.
import { type ComposeProject, normalizeProject } from '../../pkg/compose/model.ts';
import { parseComposeText } from '../../pkg/compose/tree.ts';

export const PROJECT_DIR = '/srv/app';

export function projectFromYaml(
  text: string,
  env: Record<string, string> = {},
  envFiles: Record<string, Record<string, string>> = {},
): ComposeProject {
  const lookup = (name: string): string | undefined => env[name];
  const { root } = parseComposeText(text, 'compose.yaml', lookup);
  return normalizeProject(root, {
    projectName: 'app',
    workingDir: PROJECT_DIR,
    configFiles: [`${PROJECT_DIR}/compose.yaml`],
    lookup,
    readEnvFile: (path) => {
      const vars = envFiles[path];
      if (!vars) throw new Error(`${path}: no such file`);
      return new Map(Object.entries(vars));
    },
    home: '/home/u',
  });
}
