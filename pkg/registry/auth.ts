// Registry authentication as Docker does it: a 401 carries a `WWW-Authenticate` challenge; `Bearer` means
// "get a token from this realm for this scope" (with Basic credentials when the caller has some, anonymous
// otherwise), `Basic` means "send the credentials on every request".

export interface BasicCredentials {
  readonly username: string;
  readonly password: string;
}

export interface AuthChallenge {
  readonly scheme: string;
  readonly params: Readonly<Record<string, string>>;
}

/** Parses `Bearer realm="https://auth/token",service="registry",scope="repository:a:pull"`. */
export function parseAuthChallenge(header: string): AuthChallenge | undefined {
  const match = /^\s*([A-Za-z][A-Za-z0-9_-]*)\s*(.*)$/.exec(header);
  if (!match) return undefined;
  const params: Record<string, string> = {};
  const re = /([A-Za-z][A-Za-z0-9_-]*)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))\s*,?\s*/g;
  for (const m of (match[2] ?? '').matchAll(re)) {
    params[m[1]!.toLowerCase()] = m[2] !== undefined ? m[2].replace(/\\(.)/g, '$1') : (m[3] ?? '');
  }
  return { scheme: match[1]!.toLowerCase(), params };
}

export function basicAuthorization(credentials: BasicCredentials): string {
  return `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}`;
}

export class RegistryAuthError extends Error {
  override readonly name = 'RegistryAuthError';
}

/** Asks the challenge's realm for a token covering `scopes`; returns the `Authorization` header value. */
export async function fetchBearerToken(
  challenge: AuthChallenge,
  scopes: readonly string[],
  credentials: BasicCredentials | undefined,
  fetchImpl: typeof fetch,
): Promise<string> {
  const realm = challenge.params['realm'];
  if (!realm) throw new RegistryAuthError('the registry asked for a bearer token without a realm');
  let url: URL;
  try {
    url = new URL(realm);
  } catch {
    throw new RegistryAuthError(`invalid token realm ${JSON.stringify(realm)}`);
  }
  const service = challenge.params['service'];
  if (service) url.searchParams.set('service', service);
  for (const scope of scopes) url.searchParams.append('scope', scope);
  const headers: Record<string, string> = {};
  if (credentials) headers['authorization'] = basicAuthorization(credentials);
  let response: Response;
  try {
    response = await fetchImpl(url, { headers });
  } catch (err) {
    throw new RegistryAuthError(`cannot reach the token server ${url.origin}: ${(err as Error).message}`, {
      cause: err,
    });
  }
  if (!response.ok) {
    // a body cut mid-way rejects its cancel with the stream's error: the refusal is the answer here
    await response.body?.cancel().catch(() => undefined);
    throw new RegistryAuthError(
      `the token server ${url.origin} refused ${credentials ? `user ${credentials.username}` : 'anonymous access'} for ${scopes.join(' ')}: HTTP ${response.status}`,
    );
  }
  const body = (await response.json().catch(() => ({}))) as { token?: unknown; access_token?: unknown };
  const token = typeof body.token === 'string' ? body.token : body.access_token;
  if (typeof token !== 'string' || token === '') {
    throw new RegistryAuthError(`the token server ${url.origin} answered without a token`);
  }
  return `Bearer ${token}`;
}
