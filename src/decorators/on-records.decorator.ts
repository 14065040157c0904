import { InvalidDecoratorError } from '../core/errors';
import { builtInDecoder, type DecoderName, type RecordDecoder } from '../core/record-decoder';
import { appendMetadata } from './metadata';
import { RECORDS_HANDLER_METADATA } from './metadata-keys';
import { describeMember, requireInstanceMethod } from './decorator-target';

/** Options of `@OnRecords`. */
export interface OnRecordsOptions<T = unknown> {
  /**
   * Decode each record before the handler sees it: `'json'`, `'text'`, `'buffer'`, or a function. Without it the
   * handler receives the {@link KinesisRecord}s themselves (and pays for no decoding it does not ask for).
   */
  readonly decode?: DecoderName | RecordDecoder<T>;
}

/**
 * Marks the method that handles each batch of a shard: `(items, batch) => void | Promise<void> | Observable<unknown>`,
 * where `items` are the records (or their decoded payloads) and `batch` is the {@link RecordBatch}. Batches of one
 * shard are handled strictly in order, one at a time. A consumer has exactly one `@OnRecords` method.
 *
 * Records are decoded one by one: a record that cannot be decoded is not retried and goes to the error policy alone.
 * The method may resolve with a `BatchItemFailures` (`{ failedSequenceNumbers }`) to report the records that failed:
 * the checkpoint stops before the first of them and the retry re-delivers the batch from it (docs/failures.md).
 */
export function OnRecords<T = unknown>(options: OnRecordsOptions<T> = {}): MethodDecorator {
  return (target, member, descriptor) => {
    const methodKey = requireInstanceMethod('OnRecords', target, member, descriptor);
    if (typeof options !== 'object' || options === null) {
      throw new InvalidDecoratorError(`@OnRecords on ${describeMember(target, member)}: options must be an object such as { decode: 'json' }`);
    }
    for (const key of Object.keys(options)) {
      if (key !== 'decode') {
        throw new InvalidDecoratorError(`@OnRecords on ${describeMember(target, member)}: unknown option "${key}" (known: decode)`);
      }
    }
    const decode = options.decode;
    let decoder: RecordDecoder<unknown> | undefined;
    let decoderName = 'records';
    if (decode === 'json' || decode === 'text' || decode === 'buffer') {
      decoder = builtInDecoder(decode);
      decoderName = decode;
    } else if (typeof decode === 'function') {
      decoder = decode;
      decoderName = decode.name || 'custom';
    } else if (decode !== undefined) {
      throw new InvalidDecoratorError(
        `@OnRecords on ${describeMember(target, member)}: decode must be 'json', 'text', 'buffer' or a function, got ${JSON.stringify(decode)}`,
      );
    }
    appendMetadata(RECORDS_HANDLER_METADATA, target, { methodKey, decoder, decoderName });
  };
}
