// A one-line progress display on stderr for long scans, redrawn at most a few times a second and only when a
// person is watching (stderr is a terminal).
import type { OutputStream } from '../../runtime/output-stream.js';
import type { ScanProgress } from '../scanner.js';

export class ProgressBar {
  readonly #stream: OutputStream;
  readonly #startedAt = Date.now();
  #lastDrawAt = 0;
  #drawn = false;

  constructor(stream: OutputStream) {
    this.#stream = stream;
  }

  update(progress: ScanProgress): void {
    const now = Date.now();
    if (now - this.#lastDrawAt < 200) return;
    this.#lastDrawAt = now;
    const seconds = Math.max(0.001, (now - this.#startedAt) / 1000);
    const megabytes = progress.bytes / 1e6;
    const unit = progress.commits > 0 ? `${progress.commits} commits` : `${progress.files} files`;
    this.#stream.write(
      `\r\x1b[2Kscanning: ${unit}, ${megabytes.toFixed(1)} MB (${(megabytes / seconds).toFixed(1)} MB/s), ${progress.findings} findings`,
    );
    this.#drawn = true;
  }

  finish(): void {
    if (this.#drawn) this.#stream.write('\r\x1b[2K');
  }
}
