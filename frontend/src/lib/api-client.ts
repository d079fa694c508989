import * as z from 'zod/mini';

import { env } from '@/config/env';
import { zErrorEnvelope } from '@/lib/api/generated/zod.gen';

/**
 * The generated envelope, read leniently: an error answer without `errors` (a proxy, an older server) still
 * shows the server's message, and an empty code falls back to one derived from the status.
 */
const errorEnvelopeSchema = z.extend(zErrorEnvelope, {
  code: z.string().check(z.minLength(1)),
  errors: z._default(z.optional(zErrorEnvelope.shape.errors), {}),
});

/** The parts of a generated operation (`*Data` in the generated types) that name its URL. */
interface OperationData {
  url: string;
  path?: Record<string, string>;
}

/**
 * Fills an operation's URL template with its path parameters (each URL-encoded). The URL and the parameters
 * are checked against the generated operation, so a path the schema does not have does not compile:
 * `apiPath<AppointmentGetData>('/api/appointments/{appointment_id}/', { appointment_id: id })`.
 */
export function apiPath<D extends OperationData>(
  url: D['url'],
  ...[path]: undefined extends D['path'] ? [] : [NonNullable<D['path']>]
): string {
  if (!path) return url;
  return url.replace(/\{(\w+)\}/g, (_match, name: string) => {
    const value = path[name];
    if (value === undefined) throw new Error(`Missing path parameter ${name} for ${url}`);
    return encodeURIComponent(value);
  });
}

/** Codes the client itself produces, besides the server's stable codes (docs/architecture.md). */
export type ClientErrorCode = 'network_error' | 'invalid_response';

/** Every failed API call becomes one of these: the server's error envelope, or a client-made equivalent. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly errors: Record<string, string[]>;
  /** Seconds, from `Retry-After` on 429 answers. */
  readonly retryAfter: number | null;

  constructor(init: {
    status: number;
    code: string;
    message: string;
    errors?: Record<string, string[]>;
    retryAfter?: number | null;
  }) {
    super(init.message);
    this.name = 'ApiError';
    this.status = init.status;
    this.code = init.code;
    this.errors = init.errors ?? {};
    this.retryAfter = init.retryAfter ?? null;
  }
}

export function isApiError(error: unknown): error is ApiError {
  return error instanceof ApiError;
}

const fallbackCodes: Record<number, string> = {
  400: 'validation_error',
  404: 'not_found',
  405: 'method_not_allowed',
  409: 'conflict',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  429: 'throttled',
  502: 'provider_error',
  503: 'provider_unavailable',
};

function parseRetryAfter(value: string | null): number | null {
  if (!value) return null;
  const seconds = Number(value);
  return Number.isFinite(seconds) && seconds >= 0 ? Math.ceil(seconds) : null;
}

async function readJson(response: Response): Promise<unknown> {
  const text = await response.text();
  if (!text) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

interface RequestOptions<S extends z.ZodMiniType> {
  method?: 'GET' | 'POST';
  body?: unknown;
  schema: S;
  signal?: AbortSignal;
  /** The appointment's access token (issue 12): sent as `Authorization: Bearer`, and nowhere else. */
  accessToken?: string | null;
}

/**
 * Calls the API and returns the response parsed by `schema`.
 * Throws ApiError: the server's envelope on non-2xx, `network_error` when the server cannot be reached,
 * `invalid_response` when a 2xx body does not match the contract.
 */
export async function apiRequest<S extends z.ZodMiniType>(path: string, options: RequestOptions<S>): Promise<z.infer<S>> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  const init: RequestInit = {
    method: options.method ?? 'GET',
    headers,
    credentials: 'omit',
    signal: options.signal ?? null,
  };
  if (options.accessToken) headers.Authorization = `Bearer ${options.accessToken}`;
  if (options.body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(options.body);
  }

  let response: Response;
  try {
    response = await fetch(`${env.apiBaseUrl}${path}`, init);
  } catch (cause) {
    if (cause instanceof DOMException && cause.name === 'AbortError') throw cause;
    throw new ApiError({
      status: 0,
      code: 'network_error',
      message: 'We could not reach the server. Check your connection and try again.',
    });
  }

  const payload = await readJson(response);

  if (!response.ok) {
    const envelope = errorEnvelopeSchema.safeParse(payload);
    const retryAfter = parseRetryAfter(response.headers.get('Retry-After'));
    if (envelope.success) {
      throw new ApiError({ status: response.status, ...envelope.data, retryAfter });
    }
    throw new ApiError({
      status: response.status,
      code: fallbackCodes[response.status] ?? 'server_error',
      message: 'Something went wrong on our side. Please try again.',
      retryAfter,
    });
  }

  const parsed = options.schema.safeParse(payload);
  if (!parsed.success) {
    throw new ApiError({
      status: response.status,
      code: 'invalid_response',
      message: 'The server sent an answer we did not understand. Please try again later.',
    });
  }
  return parsed.data;
}
