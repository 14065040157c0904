import { type AttributeValue } from '@aws-sdk/client-dynamodb-streams';

/** A DynamoDB attribute as plain JSON. */
export type JsonAttribute = string | number | boolean | null | JsonAttribute[] | { [name: string]: JsonAttribute };

/**
 * Turns a DynamoDB attribute into plain JSON: `S` → string, `N` → number (kept as its decimal string when a JavaScript
 * number would change it, e.g. past 2^53), `B` → base64, `BOOL`, `NULL` → null, `M` → object, `L` → array, and the
 * sets `SS`/`NS`/`BS` → arrays (JSON has no sets).
 */
export function attributeToJson(value: AttributeValue): JsonAttribute {
  if (value.S !== undefined) return value.S;
  if (value.N !== undefined) return numberToJson(value.N);
  if (value.B !== undefined) return Buffer.from(value.B).toString('base64');
  if (value.BOOL !== undefined) return value.BOOL;
  if (value.NULL !== undefined) return null;
  if (value.M !== undefined) return imageToJson(value.M);
  if (value.L !== undefined) return value.L.map(attributeToJson);
  if (value.SS !== undefined) return [...value.SS];
  if (value.NS !== undefined) return value.NS.map(numberToJson);
  if (value.BS !== undefined) return value.BS.map((bytes) => Buffer.from(bytes).toString('base64'));
  return null; // an attribute type newer than this adapter
}

/** An item image (or its keys) as a JSON object. */
export function imageToJson(image: Record<string, AttributeValue>): { [name: string]: JsonAttribute } {
  const result: { [name: string]: JsonAttribute } = {};
  for (const [name, value] of Object.entries(image)) result[name] = attributeToJson(value);
  return result;
}

function numberToJson(text: string): number | string {
  const value = Number(text);
  // Exact round trip only: "1e3", "0.10" or 2^53 + 1 stay strings rather than silently change.
  return Number.isFinite(value) && String(value) === text ? value : text;
}
