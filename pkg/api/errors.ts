// What client and agent agree on about failed calls.

/**
 * Trailing metadata key on every error status the agent's handlers send: the client then knows that an
 * UNAVAILABLE came from the agent (a registry was down), not from failing to reach the agent.
 */
export const AGENT_ERROR_METADATA = 'tsnet-agent-error';
