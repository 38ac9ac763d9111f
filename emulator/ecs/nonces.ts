/**
 * Signature nonces seen recently. ECS refuses a nonce it has seen within its replay window
 * (SignatureNonceUsed); the window matches the 15 minutes a request date may be off, so a replay
 * is refused either for its nonce or for its date.
 */

/** How long a nonce is remembered. */
export const NONCE_WINDOW_MS = 15 * 60 * 1000;

export class NonceStore {
  readonly #seen = new Map<string, number>();

  /** Remembers `nonce` for `accessKeyId`; false if it was already used within the window. */
  use(accessKeyId: string, nonce: string, now: number): boolean {
    this.#forgetExpired(now);
    const key = `${accessKeyId}\n${nonce}`;
    if (this.#seen.has(key)) return false;
    this.#seen.set(key, now + NONCE_WINDOW_MS);
    return true;
  }

  get size(): number {
    return this.#seen.size;
  }

  clear(): void {
    this.#seen.clear();
  }

  #forgetExpired(now: number): void {
    // Insertion order is expiry order, so the expired ones are at the front.
    for (const [key, expiresAt] of this.#seen) {
      if (expiresAt > now) return;
      this.#seen.delete(key);
    }
  }
}
