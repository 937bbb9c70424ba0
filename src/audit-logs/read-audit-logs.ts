// Reads audit-log sources into common records, one at a time (constant memory whatever the input's size): each
// source is cut into JSON records (json-record-stream.ts) and each record handed to its format's reader — the one
// named, or with `auto` the reader that recognises it (the last one that did is asked first, since a file holds
// one format). A source that fails part-way (bad gzip, a read error) becomes a problem and the next source is read.
import type { JsonRecord } from './audit-log-fields.js';
import type { AuditLogSource } from './audit-log-input.js';
import type { AuditLogReader } from './audit-log-reader.js';
import type { AuditLogItem } from './audit-log-record.js';
import { jsonRecordBatches } from './json-record-stream.js';

export interface ReadAuditLogsOptions {
  /** One reader (a named format), or several to choose from per record (`auto`). */
  readers: readonly AuditLogReader[];
  maxRecordBytes?: number;
}

/** The items of every source, one at a time (see readAuditLogBatches, which this flattens). */
export async function* readAuditLogs(
  sources: readonly AuditLogSource[],
  options: ReadAuditLogsOptions,
): AsyncGenerator<AuditLogItem> {
  for await (const batch of readAuditLogBatches(sources, options)) yield* batch;
}

/** The items of every source, a chunk's worth at a time (one await per chunk, not per record). */
export async function* readAuditLogBatches(
  sources: readonly AuditLogSource[],
  options: ReadAuditLogsOptions,
): AsyncGenerator<AuditLogItem[]> {
  const envelopeKeys = [...new Set(options.readers.flatMap((reader) => reader.envelopeKeys))];
  let last: AuditLogReader | undefined = options.readers.length === 1 ? options.readers[0] : undefined;
  for (const source of sources) {
    let position = { index: 0, line: 1 };
    try {
      for await (const items of jsonRecordBatches(source.open(), {
        envelopeKeys,
        ...(options.maxRecordBytes ? { maxRecordBytes: options.maxRecordBytes } : {}),
      })) {
        const out: AuditLogItem[] = [];
        for (const item of items) {
          position = { index: item.index, line: item.line };
          if ('error' in item) {
            out.push({ problem: { source: source.name, index: item.index, line: item.line, message: item.error } });
            continue;
          }
          const record = item.value as JsonRecord;
          const reader = last?.recognises(record)
            ? last
            : options.readers.find((candidate) => candidate.recognises(record));
          if (!reader) {
            if (options.readers.length === 1) {
              out.push({
                problem: {
                  source: source.name,
                  index: item.index,
                  line: item.line,
                  message: `not a ${options.readers[0]!.format} record`,
                },
              });
            } else {
              out.push({ skipped: true });
            }
            continue;
          }
          last = reader;
          const read = reader.read(record);
          if (typeof read === 'string') {
            out.push({ problem: { source: source.name, index: item.index, line: item.line, message: read } });
          } else {
            out.push({ record: read });
          }
        }
        yield out;
      }
    } catch (error) {
      // A stream error (corrupt gzip, a read failure): name it, keep nothing of the input, go on with the next.
      const code = (error as NodeJS.ErrnoException).code;
      const message = error instanceof Error ? error.message.split('\n')[0]! : String(error);
      yield [
        {
          problem: {
            source: source.name,
            index: position.index + 1,
            message: `cannot read further: ${code ? `${code}: ` : ''}${message}`,
          },
        },
      ];
    }
  }
}
