// tsnetctl: the agent's client (docker's commands over its API) and the operator's view of the cluster. Run
// by the native tsnetctl (native/ctl-front) when no warm one could take the call, or started by the agent as
// a warm one that waits for a call to take (pkg/ctl/warm-client.ts).
import { prepareTsnetctl, warmUpTsnetctl } from '../../pkg/ctl/main.ts';
import { serveAsWarmClient, warmClientOf } from '../../pkg/ctl/warm-client.ts';

const agentSocket = warmClientOf();
if (agentSocket) void serveAsWarmClient(() => warmUpTsnetctl(agentSocket), prepareTsnetctl);
else void prepareTsnetctl()().then((code) => process.exit(code));
