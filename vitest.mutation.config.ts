// The config Stryker runs: the suite's, limited to the test files listed in MUTATION_TESTS
// (comma-separated globs), so one module is measured against the tests that cover it. Stryker's
// own --testFiles is not used for that: with it, 9.6.1 activates static mutants (module-level
// tables such as SSRF's block lists) after the module has loaded and reports them survived
// (stryker-js#6144).
import config from './vitest.config.js';

const only = process.env.MUTATION_TESTS?.split(',');

export default only ? { ...config, test: { ...config.test, include: only } } : config;
