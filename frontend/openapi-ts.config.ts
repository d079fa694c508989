import { defineConfig } from '@hey-api/openapi-ts';
import ts from 'typescript';

/**
 * Generates the SPA's API types and zod schemas from the backend's committed OpenAPI schema
 * (`npm run client`, `make client`; `make check-client` fails when the committed output drifted).
 * API_CLIENT_OUTPUT lets the drift check generate into a temporary folder instead.
 */
export default defineConfig({
  input: '../backend/schema.yaml',
  output: {
    path: process.env.API_CLIENT_OUTPUT ?? 'src/lib/api/generated',
    clean: true,
  },
  plugins: [
    '@hey-api/typescript',
    {
      name: 'zod',
      // Zod Mini: the same checks, tree-shakeable functions instead of methods (about 6 KB gzip instead of 24 on
      // the first route; docs/frontend.md, "Bundle budget").
      compatibilityVersion: 'mini',
      // Django answers with an explicit offset (`Z` or `+02:00`): both are valid, a naive time is not.
      dates: { offset: true },
      '~resolvers': {
        string(ctx) {
          const { $, schema, symbols } = ctx;
          if (schema.format === 'uri') {
            // Only http(s): a `javascript:` redirect_url from a compromised answer must never be followed.
            const httpOnly = ts.factory.createObjectLiteralExpression([
              ts.factory.createPropertyAssignment('protocol', ts.factory.createRegularExpressionLiteral('/^https?$/')),
            ]);
            ctx.nodes.format = () => $(symbols.z).attr('url').call(httpOnly);
          }
          if (schema.format === 'email') {
            // The server decides what an email is (Django's validator accepts addresses zod's regex
            // refuses): an answer must never fail to parse because of a stricter client-side rule.
            ctx.nodes.format = () => undefined;
          }
          return undefined;
        },
      },
    },
  ],
});
