// autocannon ships no type declarations: the part bench/server.ts and bench/scale.ts use, so that
// `npx tsc -p tsconfig.check.json` checks the benchmarks without adding @types/autocannon.
declare module 'autocannon' {
  interface AutocannonRequest {
    method?: string;
    path?: string;
    headers?: Record<string, string>;
    body?: string | Buffer;
    /** Mutates or replaces the request before it is sent; a falsy return restarts the request sequence. */
    setupRequest?: (request: AutocannonRequest, context: Record<string, unknown>) => AutocannonRequest | undefined;
  }

  interface AutocannonOptions {
    url: string;
    connections?: number;
    duration?: number;
    amount?: number;
    headers?: Record<string, string>;
    method?: string;
    requests?: AutocannonRequest[];
  }

  /** One statistic of a run (requests, latency, throughput): mean, spread and percentiles. */
  interface AutocannonHistogram {
    average: number;
    mean: number;
    stddev: number;
    min: number;
    max: number;
    /** Present on the requests and throughput statistics, not on latency. */
    total?: number;
    p50: number;
    p90: number;
    p99: number;
  }

  interface AutocannonResult {
    requests: AutocannonHistogram;
    latency: AutocannonHistogram;
    throughput: AutocannonHistogram;
    errors: number;
    timeouts: number;
    non2xx: number;
    duration: number;
  }

  export default function autocannon(options: AutocannonOptions): Promise<AutocannonResult>;
}
