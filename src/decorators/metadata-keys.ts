/** Metadata keys. `Symbol.for` keys cannot collide with other libraries and still match across two copies of shardline. */
export const CONSUMER_METADATA = Symbol.for('shardline:consumer');
export const RECORDS_HANDLER_METADATA = Symbol.for('shardline:on-records');
export const EVERY_METADATA = Symbol.for('shardline:every');
export const SECRET_METADATA = Symbol.for('shardline:secret');
export const HOOK_METADATA = Symbol.for('shardline:hook');
