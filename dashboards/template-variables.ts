/**
 * Grafana interpolates `$name`, `${name}` and `[[name]]` in queries before sending them. To run a
 * dashboard's queries against Prometheus outside Grafana (tests, ad-hoc checks), substitute
 * concrete values the same way; anything left unexpanded is an error, not a silent query.
 */
const VARIABLE = /\$\{(\w+)(?::\w+)?\}|\[\[(\w+)\]\]|\$(\w+)/g;

export class UnknownVariableError extends Error {
  readonly code = 'unknown_variable';
}

export function expandVariables(expr: string, values: Record<string, string>): string {
  return expr.replace(VARIABLE, (whole, braced, bracketed, bare) => {
    const name = braced ?? bracketed ?? bare;
    const value = values[name];
    if (value === undefined) throw new UnknownVariableError(`no value for ${whole} in: ${expr}`);
    return value;
  });
}

/** Names of the variables a query uses, Grafana's built-ins (`__rate_interval`) included. */
export function variablesIn(expr: string): string[] {
  return [...expr.matchAll(VARIABLE)].map((m) => m[1] ?? m[2] ?? m[3]);
}
