/**
 * The last lines a daemon logged, kept in memory for the web console, each
 * with a sequence number so a page can ask for what came after the last one
 * it has.
 * @module
 */

/** One remembered log line. */
export interface LogEntry {
  seq: number;
  time: string;
  line: string;
}

/** A fixed-size ring of the newest log lines. */
export class LogRing {
  readonly #entries: LogEntry[] = [];
  #seq = 0;

  constructor(private readonly size = 200) {}

  /** Remembers `line`, dropping the oldest beyond `size`. */
  push(line: string, time = new Date()): void {
    this.#entries.push({ seq: ++this.#seq, time: time.toISOString(), line });
    if (this.#entries.length > this.size) this.#entries.shift();
  }

  /** Returns the lines after sequence number `after` (all kept lines for 0), and the number to ask after next. */
  since(after = 0): { lines: LogEntry[]; next: number } {
    return { lines: this.#entries.filter((e) => e.seq > after), next: this.#seq };
  }

  /** Returns a logger that remembers each line and passes it on to `log`. */
  tee(log: (line: string) => void): (line: string) => void {
    return (line) => {
      this.push(line);
      log(line);
    };
  }
}
