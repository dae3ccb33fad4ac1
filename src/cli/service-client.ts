/** Small JSON client for a running Spillway service's endpoints (status, load). */

export interface ServiceResponse<T> {
  status: number;
  body: T;
}

/** GET `path` from the service as JSON. 503 bodies are returned too (they carry the health report). */
export function getJson<T = Record<string, unknown>>(base: string, path: string, token?: string): Promise<ServiceResponse<T>> {
  return requestJson<T>('GET', base, path, token);
}

/** POST to `path` (no body) and read the JSON answer, whatever its status. */
export function postJson<T = Record<string, unknown>>(base: string, path: string, token?: string): Promise<ServiceResponse<T>> {
  return requestJson<T>('POST', base, path, token);
}

async function requestJson<T>(method: 'GET' | 'POST', base: string, path: string, token: string | undefined): Promise<ServiceResponse<T>> {
  let response: Response;
  try {
    response = await fetch(`${base}${path}`, {
      method,
      headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
      signal: AbortSignal.timeout(10_000),
    });
  } catch (error) {
    const cause = error instanceof Error && error.cause instanceof Error ? `: ${error.cause.message}` : '';
    throw new Error(`cannot reach the service at ${base}${path}${cause}`);
  }
  const text = await response.text();
  try {
    return { status: response.status, body: JSON.parse(text) as T };
  } catch {
    throw new Error(`${base}${path} answered ${response.status} with a body that is not JSON`);
  }
}
