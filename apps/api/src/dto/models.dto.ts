import { modelKinds, modelParamsSchema } from '@quarry/generation';
import { createZodDto } from 'nestjs-zod';
import { z } from 'zod';

const httpUrl = z
  .url()
  .max(2_000)
  .refine((value) => /^https?:\/\//.test(value), 'must be an http:// or https:// URL')
  .refine((value) => {
    const url = new URL(value);
    return url.username === '' && url.password === '';
  }, 'must not carry credentials; use apiKey');

const modelInput = z
  .object({
    /** The tenant's name for this entry, unique in the list. */
    name: z.string().trim().regex(/^[A-Za-z0-9][A-Za-z0-9 ._:-]{0,62}$/, '1-63 letters, digits, space . _ : -, starting with a letter or digit'),
    kind: z.enum(modelKinds),
    baseUrl: httpUrl.nullable().optional(),
    /** The server's model name (ignored for llama-cpp, which is the deployment's embedded model). */
    model: z.string().trim().min(1).max(200),
    contextWindow: z.number().int().min(256).max(2_000_000),
    params: modelParamsSchema.default({}),
    /** Write-only. A string stores it (sealed), null removes it, absent keeps the stored one of the same name. */
    apiKey: z.string().min(1).max(1_000).nullable().optional(),
  })
  .strict()
  .superRefine((value, context) => {
    if (value.kind === 'llama-cpp' && value.baseUrl) {
      context.addIssue({ code: 'custom', path: ['baseUrl'], message: 'llama-cpp is the embedded model and takes no baseUrl' });
    }
    if (value.kind === 'llama-cpp' && typeof value.apiKey === 'string') {
      context.addIssue({ code: 'custom', path: ['apiKey'], message: 'llama-cpp takes no apiKey' });
    }
    if (value.kind !== 'llama-cpp' && !value.baseUrl) {
      context.addIssue({ code: 'custom', path: ['baseUrl'], message: `is required for ${value.kind}` });
    }
  });

export class PutModelsBody extends createZodDto(
  z
    .object({
      /** In answer order: the first is the primary, the rest its fallbacks. Empty: the embedded default. */
      models: z.array(modelInput).max(5),
    })
    .strict(),
) {}

const modelView = z.object({
  name: z.string(),
  kind: z.enum(modelKinds),
  baseUrl: z.string().nullable(),
  model: z.string(),
  contextWindow: z.number().int(),
  params: modelParamsSchema,
  hasApiKey: z.boolean(),
});

export class ModelSettingsDto extends createZodDto(
  z.object({
    models: z.array(modelView),
    /** True when no model is configured and the embedded default answers. */
    usingDefault: z.boolean(),
    /** The model answering when none is configured. */
    defaultModel: modelView,
  }),
) {}
