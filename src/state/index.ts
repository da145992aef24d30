export type { StateStore, MessageHandler } from './types.js';
export { StateError, isStateError, type StateErrorCode } from './errors.js';
export { StateConfigSchema, type StateConfig } from './config.js';
export { MemoryStateStore, ManualClock, type Clock, type MemoryStateOptions } from './memory.js';
export { RedisStateStore, type RedisStateOptions } from './redis.js';
export { openStateStore } from './open.js';
