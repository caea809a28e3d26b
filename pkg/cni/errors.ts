// CNI errors: the spec's well-known codes and its JSON error form, printed on stdout with a non-zero exit.

/** Well-known error codes (CNI spec 1.1.0, "Error"); 100+ are plugin specific. */
export const ErrorCode = {
  IncompatibleVersion: 1,
  UnsupportedField: 2,
  UnknownContainer: 3,
  InvalidEnvironment: 4,
  IoFailure: 5,
  DecodingFailure: 6,
  InvalidNetworkConfig: 7,
  TryAgainLater: 11,
  PluginNotAvailable: 50,
  PluginNotAvailableLimitedConnectivity: 51,
  /** Not in the spec: what the reference plugins report for an unclassified failure. */
  Internal: 999,
} as const;

export type ErrorCodeValue = (typeof ErrorCode)[keyof typeof ErrorCode] | number;

/** The spec's error object as printed on stdout. */
export interface CniErrorJson {
  cniVersion: string;
  code: number;
  msg: string;
  details?: string;
}

export class CniError extends Error {
  readonly code: number;
  readonly msg: string;
  readonly details: string | undefined;

  constructor(code: ErrorCodeValue, msg: string, details?: string, options?: { cause?: unknown }) {
    super(details ? `${msg}: ${details}` : msg, options);
    this.name = 'CniError';
    this.code = code;
    this.msg = msg;
    this.details = details || undefined;
  }

  toJSON(cniVersion: string): CniErrorJson {
    const out: CniErrorJson = { cniVersion, code: this.code, msg: this.msg };
    if (this.details) out.details = this.details;
    return out;
  }
}

/** Any thrown value as a CniError: CniErrors pass through, anything else is code 999 with its message. */
export function toCniError(err: unknown): CniError {
  if (err instanceof CniError) return err;
  if (err instanceof Error) return new CniError(ErrorCode.Internal, err.message, undefined, { cause: err });
  return new CniError(ErrorCode.Internal, String(err));
}

/** Reads a plugin's error output ({code, msg, details}); undefined if it is not one. */
export function parseCniErrorJson(text: string): CniError | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const { code, msg, details } = value as Record<string, unknown>;
  if (typeof code !== 'number' || !Number.isInteger(code)) return undefined;
  return new CniError(
    code,
    typeof msg === 'string' ? msg : '',
    typeof details === 'string' ? details : undefined,
  );
}
