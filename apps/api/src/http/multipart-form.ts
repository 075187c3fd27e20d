import { AppError, ErrorCode } from '@quarry/core';
import busboy from 'busboy';
import type { Request } from 'express';

export interface BufferedForm {
  fields: Record<string, string>;
  /** File contents by form field name (one file per field). */
  files: Map<string, Buffer>;
}

/**
 * Reads a small multipart form (text fields and a few small files) into memory, for uploads that must be
 * parsed whole anyway (eval datasets). Over `maxFileBytes` in one file is a 413, not a truncated read.
 */
export async function readBufferedForm(req: Request, limits: { maxFiles: number; maxFileBytes: number }): Promise<BufferedForm> {
  const contentType = req.headers['content-type'] ?? '';
  if (!contentType.toLowerCase().startsWith('multipart/form-data')) {
    throw new AppError(415, ErrorCode.UnsupportedMediaType, 'Upload the dataset as multipart/form-data');
  }
  return new Promise<BufferedForm>((resolve, reject) => {
    let parser: busboy.Busboy;
    try {
      parser = busboy({ headers: req.headers, limits: { files: limits.maxFiles, fileSize: limits.maxFileBytes, fields: 20, fieldSize: 10_000 } });
    } catch {
      reject(new AppError(400, ErrorCode.ValidationFailed, 'The multipart body is malformed'));
      return;
    }
    const form: BufferedForm = { fields: {}, files: new Map() };
    let failure: AppError | undefined;
    const fail = (error: AppError) => {
      failure ??= error;
    };
    parser.on('field', (name, value) => {
      form.fields[name] = value;
    });
    parser.on('file', (name, stream) => {
      const parts: Buffer[] = [];
      stream.on('data', (part: Buffer) => parts.push(part));
      stream.on('limit', () => fail(new AppError(413, ErrorCode.PayloadTooLarge, `A file may be at most ${limits.maxFileBytes} bytes`)));
      stream.on('end', () => {
        if (form.files.has(name)) fail(new AppError(400, ErrorCode.ValidationFailed, `Only one file per field ("${name}")`));
        form.files.set(name, Buffer.concat(parts));
      });
    });
    parser.on('filesLimit', () => fail(new AppError(400, ErrorCode.ValidationFailed, `At most ${limits.maxFiles} files per upload`)));
    parser.on('error', () => reject(new AppError(400, ErrorCode.ValidationFailed, 'The multipart body is malformed')));
    parser.on('close', () => (failure ? reject(failure) : resolve(form)));
    req.pipe(parser);
  });
}
