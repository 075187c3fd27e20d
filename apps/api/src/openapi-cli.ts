/**
 * Writes the OpenAPI document to a file without a database, Redis or a listening server: Nest's preview
 * mode builds the module graph and reads the controllers' metadata but instantiates no provider.
 * Usage: node apps/api/dist/openapi-cli.js <out.json>
 */
import 'reflect-metadata';
import { writeFileSync } from 'node:fs';
import { NestFactory } from '@nestjs/core';
import { AppModule } from './app.module';
import { apiEnvSchema } from './config';
import { buildOpenApiDocument } from './openapi';

// Placeholder settings: nothing connects in preview mode, but the schema still validates them.
const PREVIEW_ENV = {
  DATABASE_URL: 'postgresql://preview@127.0.0.1:1/preview',
  NODE_ENV: 'production',
  LOG_LEVEL: 'silent',
  // 32 zero bytes: nothing is sealed in preview mode, but the key must be well-formed.
  SECRETS_KEY: Buffer.alloc(32).toString('base64'),
};

async function main(out: string): Promise<void> {
  const config = apiEnvSchema.parse({ ...process.env, ...PREVIEW_ENV });
  const app = await NestFactory.create(AppModule.forRoot(config), { preview: true, logger: false, abortOnError: false });
  const document = buildOpenApiDocument(app);
  writeFileSync(out, `${JSON.stringify(document, null, 2)}\n`);
  await app.close();
}

const out = process.argv[2];
if (!out) {
  console.error('usage: openapi-cli <out.json>');
  process.exit(64);
}
main(out).catch((error: unknown) => {
  console.error('Could not write the OpenAPI document:', error);
  process.exit(1);
});
