import { defineConfig } from 'vitest/config';

// The cluster suites spawn several nodes under load (the fault suite on a throwaway PostgreSQL
// cluster of its own): they run on their own, one file at a time (npm run test:cluster), so their
// timings are not disturbed by the other suites.
const cluster = process.env.WHARF_TEST_CLUSTER === '1';
const CLUSTER_FILES = ['test/e2e/cluster*.test.ts'];

export default defineConfig({
  test: {
    include: cluster ? CLUSTER_FILES : ['test/**/*.test.ts'],
    exclude: cluster ? ['node_modules/**'] : ['node_modules/**', ...CLUSTER_FILES],
    fileParallelism: !cluster,
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // e2e files each start their own server on port 0; the machine has 2 cores
    maxWorkers: 2,
  },
});
