import { type CheckpointPosition } from '../../core/checkpoint-position';
import { ProtocolError } from '../../core/errors';
import {
  type KclActionName,
  type KclInboundMessage,
  type KclWireRecord,
} from './kcl-messages';

const PREVIEW_CHARS = 80;

/** The first characters of a line, for an error message (a batch line can be megabytes long). */
function preview(line: string): string {
  return line.length <= PREVIEW_CHARS ? line : `${line.slice(0, PREVIEW_CHARS)}… (${line.length} characters)`;
}

function isNullableString(value: unknown): value is string | null {
  return value === null || typeof value === 'string';
}

function isNullableNumber(value: unknown): value is number | null {
  return value === null || (typeof value === 'number' && Number.isFinite(value));
}

function bad(problem: string, line: string): ProtocolError {
  return new ProtocolError(
    `the KCL daemon sent ${problem}: ${preview(line)}. The conversation cannot be trusted; the child stops without checkpointing (check that the daemon is amazon-kinesis-client-multilang 2.1+ or 3.x and that nothing else writes to this process's stdin)`,
  );
}

/**
 * Parses one line from the daemon. Fields the daemon may leave out are read as null; sequence numbers stay strings and
 * record payloads stay base64 text (decoded lazily by {@link KinesisRecord}).
 * @throws ProtocolError naming the problem when the line is not JSON, has no or an unknown `action`, or a field has the wrong type.
 */
export function parseKclLine(line: string): KclInboundMessage {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch (error) {
    throw bad(`a line that is not JSON (${(error as Error).message})`, line);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw bad('a line that is not a JSON object', line);
  const m = parsed as Record<string, unknown>;
  switch (m.action) {
    case 'processRecords': {
      const records = m.records;
      if (!Array.isArray(records)) throw bad('processRecords without a records array', line);
      for (let i = 0; i < records.length; i++) {
        const problem = recordProblem(records[i]);
        if (problem !== undefined) throw bad(`processRecords whose record #${i} ${problem}`, line);
      }
      const millis = m.millisBehindLatest ?? null;
      if (!isNullableNumber(millis)) throw bad('processRecords with a non-numeric millisBehindLatest', line);
      return { action: 'processRecords', records: records as KclWireRecord[], millisBehindLatest: millis };
    }
    case 'checkpoint': {
      const sequenceNumber = m.sequenceNumber ?? null;
      const subSequenceNumber = m.subSequenceNumber ?? null;
      const error = m.error ?? null;
      if (!isNullableString(sequenceNumber) || !isNullableNumber(subSequenceNumber) || !isNullableString(error)) {
        throw bad('a checkpoint reply with fields of the wrong type', line);
      }
      return { action: 'checkpoint', sequenceNumber, subSequenceNumber, error };
    }
    case 'initialize': {
      const { shardId } = m;
      const sequenceNumber = m.sequenceNumber ?? null;
      const subSequenceNumber = m.subSequenceNumber ?? null;
      if (typeof shardId !== 'string' || shardId === '') throw bad('initialize without a shardId', line);
      if (!isNullableString(sequenceNumber) || !isNullableNumber(subSequenceNumber)) throw bad('initialize with a sequence number of the wrong type', line);
      return { action: 'initialize', shardId, sequenceNumber, subSequenceNumber };
    }
    case 'leaseLost':
    case 'shardEnded':
    case 'shutdownRequested':
      return { action: m.action };
    case 'shutdown': {
      if (m.reason === 'TERMINATE' || m.reason === 'ZOMBIE') return { action: 'shutdown', reason: m.reason };
      throw bad(`a v1 shutdown with reason ${JSON.stringify(m.reason)} (expected TERMINATE or ZOMBIE)`, line);
    }
    case undefined:
      throw bad('a JSON object without an action', line);
    default:
      throw bad(`an unknown action ${JSON.stringify(m.action)}`, line);
  }
}

/** Returns what is wrong with a wire record, or undefined. Base64 is checked separately ({@link base64Problem}). */
function recordProblem(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null) return 'is not an object';
  const r = value as Record<string, unknown>;
  if (typeof r.sequenceNumber !== 'string' || r.sequenceNumber === '') return 'has no sequenceNumber string';
  if (typeof r.partitionKey !== 'string') return `${r.sequenceNumber} has no partitionKey string`;
  if (r.data !== null && r.data !== undefined && typeof r.data !== 'string') return `${r.sequenceNumber} has data that is not a base64 string`;
  const sub = r.subSequenceNumber;
  if (sub !== null && sub !== undefined && (typeof sub !== 'number' || !Number.isInteger(sub) || sub < 0)) {
    return `${r.sequenceNumber} has a bad subSequenceNumber`;
  }
  const arrival = r.approximateArrivalTimestamp;
  if (arrival !== null && arrival !== undefined && typeof arrival !== 'number') return `${r.sequenceNumber} has a non-numeric approximateArrivalTimestamp`;
  return undefined;
}

const PAD = 61; // '='
let scratch = Buffer.allocUnsafe(64 * 1024);

/**
 * Returns why `data` is not base64, or undefined when it is. The text is decoded into a reused scratch buffer (no
 * allocation; Node's decoder is far faster than a regex scan) and the byte count compared with what the length
 * implies: Node skips characters outside the alphabet, so a shortfall is the exact signal of bad input. The record
 * keeps its text and decodes it again only if the handler reads `data`.
 */
export function base64Problem(data: string): string | undefined {
  const length = data.length;
  if (length % 4 !== 0) return `its length ${length} is not a multiple of 4`;
  const most = (length / 4) * 3;
  if (most > scratch.length) scratch = Buffer.allocUnsafe(most);
  const written = scratch.write(data, 0, 'base64');
  let padding = 0;
  if (length > 0 && data.charCodeAt(length - 1) === PAD) padding++;
  if (length > 1 && data.charCodeAt(length - 2) === PAD) padding++;
  if (written !== most - padding) return 'it contains characters outside the base64 alphabet';
  return undefined;
}

/** The status line answering `action`: exactly the keys the daemon accepts. */
export function encodeStatus(responseFor: KclActionName): string {
  return `{"action":"status","responseFor":${JSON.stringify(responseFor)}}\n`;
}

/**
 * The checkpoint request line: `position` null asks for the largest permitted position (the last record delivered,
 * or `SHARD_END` during `shardEnded`). The sub-sequence number is always sent so that a position inside a KPL
 * aggregate is stored exactly.
 */
export function encodeCheckpoint(position: CheckpointPosition | null): string {
  if (position === null) return '{"action":"checkpoint","sequenceNumber":null,"subSequenceNumber":null}\n';
  return `{"action":"checkpoint","sequenceNumber":${JSON.stringify(position.sequenceNumber)},"subSequenceNumber":${position.subSequenceNumber}}\n`;
}
