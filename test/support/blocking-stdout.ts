/**
 * Preloaded into every test file's process (scripts/test.sh): its stdout, a pipe to the test
 * runner, is made blocking. With --test-force-exit a file's process exits as soon as its tests
 * end; writes still queued on a non-blocking pipe were lost with it, and the runner silently
 * counted fewer tests than ran (seen: 161 to 168 of 182 unit tests reported).
 */
const handle = (process.stdout as unknown as { _handle?: { setBlocking?: (blocking: boolean) => void } })._handle;
handle?.setBlocking?.(true);
