import { type InjectionToken } from 'tsyringe';
import { type ConsumerDefinition } from '../decorators/metadata-types';
import { type Logger } from './logger';

/** The app's root logger (not bound to a shard; inject {@link ShardContext} for the shard's logger). */
export const SHARDLINE_LOGGER: InjectionToken<Logger> = Symbol.for('shardline:Logger');

/** What the decorators recorded on the running consumer class. */
export const CONSUMER_DEFINITION: InjectionToken<ConsumerDefinition> = Symbol.for('shardline:ConsumerDefinition');
