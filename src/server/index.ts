// The composition root: configuration assembled from the modules' sections, the modules wired in
// layer order, and `serve` (src/server/start.ts). The CLI, the demo, tests and benchmarks start
// Steward through this file.
export { type Config, type FileConfigInput, loadConfig } from './config.ts'
export { type Steward, type StewardOptions, startSteward, version } from './start.ts'
