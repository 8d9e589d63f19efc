/**
 * One error type with stable codes, and its RFC 9457 problem+json form. Services throw
 * ZkTrustError; the API maps it to a status and a body with no stack trace.
 * @module
 */

/** Stable error codes and their HTTP status. */
export const ERROR_STATUS = {
  malformed: 400,
  out_of_range: 400,
  commitment_mismatch: 400,
  stale_timestamp: 400,
  invalid_signature: 401,
  unauthorized: 401,
  forbidden: 403,
  unknown_org: 403,
  org_suspended: 403,
  not_found: 404,
  conflict: 409,
  replayed_nonce: 409,
  duplicate_record: 409,
  stale_epoch: 409,
  record_over_cap: 422,
  future_epoch: 422,
  predicate_false: 422,
  payload_too_large: 413,
  headers_too_large: 431,
  request_timeout: 408,
  rate_limited: 429,
  unavailable: 503,
  internal: 500,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

const TITLES: Record<ErrorCode, string> = {
  malformed: 'Malformed request',
  out_of_range: 'Value out of range',
  commitment_mismatch: 'Commitment does not match its opening',
  stale_timestamp: 'Timestamp outside the accepted window',
  invalid_signature: 'Invalid signature',
  unauthorized: 'Authentication required',
  headers_too_large: 'Request headers too large',
  request_timeout: 'Request timeout',
  forbidden: 'Forbidden',
  unknown_org: 'Unknown organisation',
  org_suspended: 'Organisation suspended',
  not_found: 'Not found',
  conflict: 'Conflict',
  replayed_nonce: 'Nonce already used',
  duplicate_record: 'A record for this agent, organisation and epoch was already accepted',
  stale_epoch: 'Epoch not after the organisation\'s last accepted epoch for this agent',
  record_over_cap: 'Record over the policy\'s cap',
  future_epoch: 'Epoch in the future',
  predicate_false: 'The requested statement does not hold',
  payload_too_large: 'Payload too large',
  rate_limited: 'Too many requests',
  unavailable: 'Service unavailable',
  internal: 'Internal error',
};

/** What a client should know to come back: seconds to wait, and the limit it ran into. */
export interface RetryInfo {
  retryAfterS?: number;
  rateLimit?: { limit: number; remaining: number; resetS: number };
}

export class ZkTrustError extends Error {
  override name = 'ZkTrustError';
  readonly code: ErrorCode;
  readonly status: number;
  readonly retry?: RetryInfo;

  constructor(code: ErrorCode, detail: string, retry?: RetryInfo) {
    super(detail);
    this.code = code;
    this.status = ERROR_STATUS[code];
    if (retry) this.retry = retry;
  }
}

/** An RFC 9457 problem details body. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: ErrorCode;
  instance?: string;
}

/**
 * The problem+json body for any thrown value: a ZkTrustError keeps its code and message;
 * anything else becomes a generic 500 without details.
 */
export function toProblem(err: unknown, instance?: string): Problem {
  const e = err instanceof ZkTrustError ? err : new ZkTrustError('internal', 'an internal error occurred');
  return { type: `https://zktrust.dev/problems/${e.code}`, title: TITLES[e.code], status: e.status, detail: e.message, code: e.code, ...(instance ? { instance } : {}) };
}
