import { z } from 'zod';

const envSchema = z.object({
  VITE_API_BASE_URL: z
    .url({ protocol: /^https?$/ })
    .default('http://127.0.0.1:8000')
    .transform((url) => url.replace(/\/+$/, '')),
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
