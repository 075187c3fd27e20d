import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Metrics } from './metrics';

interface RoutedRequest extends IncomingMessage {
  baseUrl?: string;
  route?: { path?: string };
}

/**
 * Times every request, including those refused before routing (malformed or oversized bodies), so it is
 * mounted first with `app.use`. The label is the matched route pattern (`/v1/users/:id`), never the raw
 * URL, so ids and probes of unknown paths cannot explode the metric's cardinality.
 */
export function httpMetricsMiddleware(metrics: Metrics) {
  return (req: RoutedRequest, res: ServerResponse, next: () => void): void => {
    const stop = metrics.httpDuration.startTimer();
    res.once('finish', () => {
      const pattern = req.route?.path;
      const route = pattern ? `${req.baseUrl ?? ''}${pattern}` : 'unmatched';
      stop({ method: req.method ?? 'UNKNOWN', route, status_code: String(res.statusCode) });
    });
    next();
  };
}
