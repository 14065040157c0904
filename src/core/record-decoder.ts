import { type KinesisRecord } from './kinesis-record';

/** Turns a record into the value a handler receives. */
export type RecordDecoder<T> = (record: KinesisRecord) => T;

/** The built-in decoders of `@OnRecords({ decode })`. */
export type DecoderName = 'json' | 'text' | 'buffer';

/** Returns the decoder for a built-in name. */
export function builtInDecoder(name: DecoderName): RecordDecoder<unknown> {
  switch (name) {
    case 'json':
      return (record) => record.json();
    case 'text':
      return (record) => record.text();
    case 'buffer':
      return (record) => record.data;
  }
}
