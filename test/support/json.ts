/** A response body parsed as JSON, typed loosely: tests check its fields one by one. */
// biome-ignore lint/suspicious/noExplicitAny: endpoint bodies are asserted field by field
export function json(response: Response): Promise<any> {
  return response.json();
}
