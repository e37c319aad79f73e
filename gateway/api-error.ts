import { SpillwayError } from '../common/errors.ts';

/** OpenAI's error types, chosen by status the way its API does. */
export type ApiErrorType =
  | 'invalid_request_error'
  | 'authentication_error'
  | 'permission_error'
  | 'not_found_error'
  | 'conflict_error'
  | 'rate_limit_error'
  | 'server_error'
  | 'service_unavailable';

export interface ErrorEnvelope {
  error: { message: string; type: ApiErrorType; param: string | null; code: string | null };
}

const TYPE_BY_STATUS: Record<number, ApiErrorType> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  403: 'permission_error',
  404: 'not_found_error',
  405: 'invalid_request_error',
  409: 'conflict_error',
  413: 'invalid_request_error',
  415: 'invalid_request_error',
  429: 'rate_limit_error',
  503: 'service_unavailable',
};

/**
 * A refusal the client is meant to read: becomes the OpenAI error envelope with its status and
 * headers (retry hints). Anything else thrown becomes a bare 500 with no detail.
 */
export class ApiError extends SpillwayError {
  constructor(
    readonly status: number,
    code: string,
    message: string,
    readonly param: string | null = null,
    readonly headers: Record<string, string> = {},
    readonly type: ApiErrorType = TYPE_BY_STATUS[status] ??
      (status >= 500 ? 'server_error' : 'invalid_request_error'),
  ) {
    super(code, message);
    this.name = 'ApiError';
  }

  envelope(): ErrorEnvelope {
    return { error: { message: this.message, type: this.type, param: this.param, code: this.code } };
  }
}

export function invalidParam(param: string, message: string, code = 'invalid_value'): ApiError {
  return new ApiError(400, code, message, param);
}

export const INTERNAL_ERROR: ErrorEnvelope = {
  error: {
    message: 'The server had an error while processing your request.',
    type: 'server_error',
    param: null,
    code: 'internal_error',
  },
};

export function errorResponse(err: ApiError): Response {
  return new Response(JSON.stringify(err.envelope()), {
    status: err.status,
    headers: { 'content-type': 'application/json', ...err.headers },
  });
}

/**
 * The error envelope of a refusal, serialised without building an Error (no stack capture): for
 * refusals on the shed path, which must stay cheap when most requests are refused. Refusals come
 * from a handful of fixed messages (gateway/admission.ts), so each envelope is serialised once:
 * a lookup costs a small fraction of the 1.5 µs JSON.stringify took per refusal. A message beyond
 * the first REFUSAL_BODIES_MAX is serialised every time rather than grow the memo.
 */
export function refusalBody(status: number, code: string, message: string): string {
  const known = refusalBodies.get(message);
  if (known && known.status === status && known.code === code) return known.body;
  const type = TYPE_BY_STATUS[status] ?? 'server_error';
  const body = JSON.stringify({ error: { message, type, param: null, code } });
  if (refusalBodies.size < REFUSAL_BODIES_MAX) refusalBodies.set(message, { status, code, body });
  return body;
}

const REFUSAL_BODIES_MAX = 64;
const refusalBodies = new Map<string, { status: number; code: string; body: string }>();
