// The two ways a served plugin (tsnet-bridge, tsnet-vxlan, tsnet-ipam) answers: forwarded by the native
// forwarder to a warm agent, or executed as the Node plugin with no agent. A plugin test registered with
// `testOnBothPaths` runs once per path with the same body (agent-path.ts), so both paths are held to the
// same assertions.
import test, { type ExecutionContext } from 'ava';
import { onPluginPath, type PluginPath } from './agent-path.ts';

const TITLES: Record<PluginPath, string> = {
  agent: 'forwarded to the agent',
  node: 'Node plugin, no agent',
};

type PluginTest = (title: string, impl: (t: ExecutionContext) => Promise<void>) => void;

function registerOnBothPaths(register: typeof test | typeof test.skip): PluginTest {
  return (title, impl) => {
    for (const which of ['agent', 'node'] as const) {
      register(`${title} [${TITLES[which]}]`, (t) =>
        onPluginPath(
          which,
          () => impl(t),
          (text) => t.log(text),
        ),
      );
    }
  };
}

/** Registers an ava test once per plugin path, the path named in its title; `.skip` registers both skipped. */
export const testOnBothPaths: PluginTest & { skip: PluginTest } = Object.assign(registerOnBothPaths(test), {
  skip: registerOnBothPaths(test.skip),
});
