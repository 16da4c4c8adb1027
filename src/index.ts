export { startWharf, type StartOptions, type Wharf } from './server/wharf.js';
export { ManualClock, type Clock } from './kernel/clock.js';
export type { WharfConfig } from './config/config.js';
