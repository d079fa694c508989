import * as z from 'zod/mini';

const envSchema = z.object({
  VITE_API_BASE_URL: z.pipe(
    z._default(z.url({ protocol: /^https?$/ }), 'http://127.0.0.1:8000'),
    z.transform((url: string) => url.replace(/\/+$/, '')),
  ),
});

export type Env = z.infer<typeof envSchema>;

export function parseEnv(source: Record<string, unknown>): Env {
  const result = envSchema.safeParse(source);
  if (!result.success) {
    throw new Error(`Invalid environment: ${z.prettifyError(result.error)}`);
  }
  return result.data;
}

const parsed = parseEnv(import.meta.env);

/** The SPA's only configuration: where the API lives. No key or secret ever belongs here. */
export const env = {
  apiBaseUrl: parsed.VITE_API_BASE_URL,
} as const;
