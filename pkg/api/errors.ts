// What client and agent agree on about failed calls.
import * as grpc from '@grpc/grpc-js';

/**
 * Trailing metadata key on every error status the agent's handlers send: the client then knows that an
 * UNAVAILABLE came from the agent (a registry was down), not from failing to reach the agent.
 */
export const AGENT_ERROR_METADATA = 'tsnet-agent-error';

/** Trailing metadata key with the exit code docker gives a failure (127: command not found, 126: not executable). */
export const EXIT_CODE_METADATA = 'tsnet-exit-code';

/**
 * Trailing metadata key with the reference of the image a call found missing (a create without
 * pullMissing): the client pulls it, with its progress, and creates again, as docker run does.
 */
export const MISSING_IMAGE_METADATA = 'tsnet-missing-image';

/** A failure as the agent's handlers answer it: the status, one line, marked as the agent's own. */
export function agentErrorStatus(
  code: grpc.status,
  details: string,
  extra: Readonly<Record<string, string>> = {},
): grpc.ServerErrorResponse {
  const metadata = new grpc.Metadata();
  metadata.set(AGENT_ERROR_METADATA, '1');
  for (const [key, value] of Object.entries(extra)) metadata.set(key, value);
  return Object.assign(new Error(details), { code, details, metadata });
}

/** A unary handler over a promise; a rejection becomes `toStatus(err)`. */
export function unaryHandler<Req, Res>(
  fn: (request: Req) => Promise<Res>,
  toStatus: (err: unknown) => grpc.ServerErrorResponse,
): grpc.handleUnaryCall<Req, Res> {
  return (call, callback) => {
    fn(call.request).then(
      (value) => callback(null, value),
      (err: unknown) => callback(toStatus(err)),
    );
  };
}
