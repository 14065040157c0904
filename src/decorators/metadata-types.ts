import { type NormalizedConsumerOptions } from '../core/consumer-options';
import { type RecordDecoder } from '../core/record-decoder';

/** What `@OnRecords` stores. */
export interface RecordsHandlerMetadata {
  readonly methodKey: string;
  readonly decoder: RecordDecoder<unknown> | undefined;
  readonly decoderName: string;
}

/** What `@Every` stores. */
export interface EveryMetadata {
  readonly methodKey: string;
  readonly intervalMs: number;
}

/** What `@Secret` stores. */
export interface SecretMetadata {
  readonly propertyKey: string;
  /** The scheme before the first colon: `env`, `kms` or `kms-file`. */
  readonly scheme: string;
  /** The reference with its scheme, e.g. `kms:AQIC…`. Not a secret: it is what the code already holds. */
  readonly ref: string;
  /** KMS encryption context, when the ciphertext was made with one. */
  readonly encryptionContext: Readonly<Record<string, string>> | undefined;
}

/** The lifecycle hooks a consumer may declare. */
export type LifecycleHook = 'init' | 'shutdown' | 'leaseLost' | 'shardEnded' | 'deadLetter';

/** What the lifecycle decorators store. */
export interface HookMetadata {
  readonly hook: LifecycleHook;
  readonly methodKey: string;
}

/** Everything the decorators recorded on a consumer class, read in one place by the runtime. */
export interface ConsumerDefinition {
  readonly name: string;
  readonly options: NormalizedConsumerOptions;
  readonly recordsHandler: RecordsHandlerMetadata;
  readonly every: readonly EveryMetadata[];
  readonly secrets: readonly SecretMetadata[];
  readonly hooks: readonly HookMetadata[];
}
