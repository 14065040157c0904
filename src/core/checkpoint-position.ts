/** A position in a shard: a record's sequence number (always a string) and its sub-sequence number inside a KPL aggregate. */
export interface CheckpointPosition {
  readonly sequenceNumber: string;
  readonly subSequenceNumber: number;
}

/**
 * Orders two positions: negative when `a` comes first, 0 when equal, positive when `a` comes after `b`.
 * Sequence numbers are compared as integers (they can exceed 2^53, so never as JavaScript numbers).
 */
export function comparePositions(a: CheckpointPosition, b: CheckpointPosition): number {
  const sa = a.sequenceNumber;
  const sb = b.sequenceNumber;
  if (sa !== sb) {
    if (sa.length !== sb.length) return sa.length - sb.length;
    return sa < sb ? -1 : 1;
  }
  return a.subSequenceNumber - b.subSequenceNumber;
}

/** Formats a position for logs: `49562…618` or `49562…618/3` inside an aggregate. */
export function formatPosition(position: CheckpointPosition | undefined): string {
  if (position === undefined) return 'none';
  return position.subSequenceNumber > 0 ? `${position.sequenceNumber}/${position.subSequenceNumber}` : position.sequenceNumber;
}
