import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';
import { cleanupOpenApiDoc } from 'nestjs-zod';
import { restoreNullableFields } from './openapi-nullable';

/** The OpenAPI document is generated from the controllers and their zod DTOs: the code is the contract. */
export function buildOpenApiDocument(app: INestApplication): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('Quarry API')
    .setDescription(
      'Multi-tenant RAG platform. Authenticate with `Authorization: Bearer qk_…` (API key) or the session ' +
        'cookie from POST /v1/auth/login plus `X-CSRF-Token` on unsafe methods. Errors are ' +
        '`{ code, message, requestId, details? }`; lists take `?limit=&cursor=` and return `{ items, nextCursor }`.',
    )
    .setVersion('1')
    .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'API key (qk_…) or platform token' })
    .addCookieAuth('quarry_session')
    .build();
  return restoreNullableFields(app, cleanupOpenApiDoc(SwaggerModule.createDocument(app, config)));
}

export function mountOpenApi(app: INestApplication): void {
  const document = buildOpenApiDocument(app);
  // swagger-ui ships inside the npm package, so /docs works on air-gapped installs too.
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'openapi.json', raw: ['json'] });
}
