import { PassThrough, type Readable } from 'node:stream';
import { AppError, ErrorCode } from '@quarry/core';
import busboy from 'busboy';
import type { Request } from 'express';

export interface MultipartFile {
  filename: string;
  mimeType: string | null;
  stream: Readable;
}

/**
 * Streams each file of a multipart body to `handle`, one at a time, never buffering a whole file.
 * Files past `maxFiles` are refused; size limits are enforced by the storage write (it aborts and
 * leaves nothing behind), with busboy's own limit one byte above as a backstop.
 */
export async function readMultipartFiles(
  req: Request,
  limits: { maxFiles: number; maxFileBytes: number },
  handle: (file: MultipartFile) => Promise<void>,
): Promise<void> {
  const contentType = req.headers['content-type'] ?? '';
  if (!contentType.toLowerCase().startsWith('multipart/form-data')) {
    throw new AppError(415, ErrorCode.UnsupportedMediaType, 'Upload files as multipart/form-data');
  }
  await new Promise<void>((resolve, reject) => {
    let parser: busboy.Busboy;
    try {
      parser = busboy({ headers: req.headers, limits: { files: limits.maxFiles, fileSize: limits.maxFileBytes + 1 } });
    } catch {
      reject(new AppError(400, ErrorCode.ValidationFailed, 'The multipart body is malformed'));
      return;
    }
    let chain = Promise.resolve();
    let failed = false;
    parser.on('file', (_field, stream, info) => {
      chain = chain.then(async () => {
        if (failed) {
          stream.resume();
          return;
        }
        // The handler may stop reading early (a size limit) and destroy what it was given; busboy would then
        // stall the whole request. It gets a pass-through instead, and the rest of the file is drained here.
        const body = new PassThrough();
        stream.pipe(body);
        body.once('close', () => {
          stream.unpipe(body);
          stream.resume();
        });
        try {
          await handle({ filename: safeName(info.filename), mimeType: info.mimeType || null, stream: body });
        } finally {
          stream.resume();
        }
      });
      chain.catch((error: unknown) => {
        failed = true;
        stream.resume();
        reject(error instanceof Error ? error : new Error(String(error)));
      });
    });
    parser.on('filesLimit', () => {
      failed = true;
      reject(new AppError(400, ErrorCode.ValidationFailed, `At most ${limits.maxFiles} files per upload`));
    });
    parser.on('error', () => reject(new AppError(400, ErrorCode.ValidationFailed, 'The multipart body is malformed')));
    parser.on('close', () => {
      chain.then(resolve, (error: unknown) => reject(error instanceof Error ? error : new Error(String(error))));
    });
    req.pipe(parser);
  });
}

/** Keeps the base name only, without control characters, at most 255 characters. */
function safeName(filename: string | undefined): string {
  const base = (filename ?? '').split(/[\\/]/).pop() ?? '';
  // eslint-disable-next-line no-control-regex
  const clean = base.replace(/[\u0000-\u001f\u007f]/g, '').trim().slice(0, 255);
  return clean || 'upload';
}
