/**
 * rest-json routing: a request's method and path → the operation whose HTTP binding (the model's
 * `http.method` and `requestUri` template) matches, with the values of its `{Label}`s. Templates
 * may end in a greedy label (`{Key+}`) and may require a query parameter (`/layers?find=LayerVersion`,
 * `…/provisioned-concurrency?List=ALL`). When several match, the most specific wins: more literal
 * segments, then a required query parameter, then fewer greedy labels.
 */
import type { ServiceModel } from './model.js';

interface Route {
  operation: string;
  method: string;
  re: RegExp;
  labels: string[];
  /** a query parameter the template requires, with its value ('' when any value will do) */
  query?: [string, string];
  literals: number;
  greedy: number;
}

export interface RestMatch {
  operation: string;
  /** decoded label values by label name */
  labels: Record<string, string>;
}

const compiled = new WeakMap<ServiceModel, Route[]>();

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function routes(model: ServiceModel): Route[] {
  let out = compiled.get(model);
  if (out) return out;
  out = [];
  for (const [operation, op] of Object.entries(model.operations)) {
    if (!op.http) continue;
    const [path, qs] = op.http.requestUri.split('?', 2);
    const labels: string[] = [];
    let literals = 0;
    let greedy = 0;
    const segments = path
      .replace(/\/+$/, '')
      .split('/')
      .slice(1)
      .map((seg) => {
        const label = /^\{(\w+)(\+?)\}$/.exec(seg);
        if (!label) {
          literals++;
          return escape(seg);
        }
        labels.push(label[1]);
        if (label[2]) {
          greedy++;
          return '(.+)';
        }
        return '([^/]+)';
      });
    const re = new RegExp(`^/${segments.join('/')}/?$`);
    const route: Route = { operation, method: op.http.method, re, labels, literals, greedy };
    if (qs) {
      const [k, v = ''] = qs.split('=', 2);
      route.query = [k, v];
    }
    out.push(route);
  }
  out.sort((a, b) => b.literals - a.literals || Number(!!b.query) - Number(!!a.query) || a.greedy - b.greedy);
  compiled.set(model, out);
  return out;
}

const decode = (s: string): string => {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
};

/** The operation a rest-json request is for, or undefined when no binding matches. */
export function matchRest(
  model: ServiceModel,
  method: string,
  rawPath: string,
  query: URLSearchParams,
): RestMatch | undefined {
  for (const r of routes(model)) {
    if (r.method !== method) continue;
    const m = r.re.exec(rawPath);
    if (!m) continue;
    if (r.query) {
      const [k, v] = r.query;
      if (!query.has(k) || (v !== '' && query.get(k) !== v)) continue;
    }
    const labels: Record<string, string> = {};
    r.labels.forEach((name, i) => (labels[name] = decode(m[i + 1])));
    return { operation: r.operation, labels };
  }
  return undefined;
}
