/** Polls `check` until it returns true or the deadline passes; then throws naming what was awaited. */
export async function pollUntil(
  check: () => Promise<boolean> | boolean,
  opts: { timeoutMs: number; intervalMs?: number; what: string | (() => string) },
): Promise<void> {
  const deadline = Date.now() + opts.timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline)
      throw new Error(
        `timed out after ${opts.timeoutMs} ms waiting for ${typeof opts.what === 'function' ? opts.what() : opts.what}`,
      );
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 200));
  }
}
