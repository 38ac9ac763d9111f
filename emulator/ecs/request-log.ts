/**
 * Every ECS call the emulator received, in order, with how it was answered. Tests read it to
 * assert how many calls a client really made (no hidden SDK retries) and what each got back.
 */

export interface LoggedRequest {
  readonly seq: number;
  /** When the call arrived, ISO 8601. */
  readonly time: string;
  readonly action: string;
  /** The call's parameters, without its signature. */
  readonly params: Readonly<Record<string, string>>;
  readonly accessKeyId: string | undefined;
  /** HTTP status answered; 0 for a call left hanging by a fault. */
  readonly status: number;
  /** The ECS error code, when the answer was an error. */
  readonly code?: string;
  readonly requestId: string | undefined;
  readonly durationMs: number;
  readonly hung?: true;
}

/** Oldest entries are dropped beyond this, so a long-running sandbox does not grow without bound. */
const LIMIT = 10_000;

export class RequestLog {
  #entries: LoggedRequest[] = [];
  #seq = 0;

  record(entry: Omit<LoggedRequest, "seq">): void {
    this.#entries.push({ seq: ++this.#seq, ...entry });
    if (this.#entries.length > LIMIT) this.#entries = this.#entries.slice(-LIMIT);
  }

  list(): readonly LoggedRequest[] {
    return this.#entries;
  }

  clear(): void {
    this.#entries = [];
  }
}
