import { Injectable, type NestMiddleware } from '@nestjs/common';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Metrics } from './metrics';

interface RoutedRequest extends IncomingMessage {
  baseUrl?: string;
  route?: { path?: string };
}

/**
 * Times every request. The label is the matched route pattern (`/v1/users/:id`), never the raw URL,
 * so ids and probes of unknown paths cannot explode the metric's cardinality.
 */
@Injectable()
export class HttpMetricsMiddleware implements NestMiddleware {
  constructor(private readonly metrics: Metrics) {}

  use(req: RoutedRequest, res: ServerResponse, next: () => void): void {
    const stop = this.metrics.httpDuration.startTimer();
    res.once('finish', () => {
      const pattern = req.route?.path;
      const route = pattern ? `${req.baseUrl ?? ''}${pattern}` : 'unmatched';
      stop({ method: req.method ?? 'UNKNOWN', route, status_code: String(res.statusCode) });
    });
    next();
  }
}
