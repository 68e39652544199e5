import type { AttributeValue } from '@aws-sdk/client-dynamodb';

/**
 * The size DynamoDB counts for an item: each attribute's name in UTF-8 plus its value (strings in
 * UTF-8; numbers at most 21 bytes; sets and maps by their members plus their overhead). Slightly
 * generous, so that an item this accepts is never refused by DynamoDB.
 */
export function itemSizeBytes(item: Record<string, AttributeValue>): number {
  let total = 0;
  for (const [name, value] of Object.entries(item)) total += Buffer.byteLength(name) + valueSizeBytes(value);
  return total;
}

function valueSizeBytes(value: AttributeValue): number {
  if (value.S !== undefined) return Buffer.byteLength(value.S);
  if (value.N !== undefined) return numberSizeBytes(value.N);
  if (value.B !== undefined) return value.B.byteLength;
  if (value.BOOL !== undefined || value.NULL !== undefined) return 1;
  if (value.SS !== undefined) return value.SS.reduce((sum, member) => sum + Buffer.byteLength(member), 0);
  if (value.NS !== undefined) return value.NS.reduce((sum, member) => sum + numberSizeBytes(member), 0);
  if (value.L !== undefined) return 3 + value.L.reduce((sum, member) => sum + 1 + valueSizeBytes(member), 0);
  if (value.M !== undefined) return 3 + itemSizeBytes(value.M) + Object.keys(value.M).length;
  return 0;
}

function numberSizeBytes(number: string): number {
  const digits = number.replace(/[^0-9]/g, '').replace(/^0+/, '').length;
  return Math.min(21, Math.ceil(digits / 2) + 1);
}
