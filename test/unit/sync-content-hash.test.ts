import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../lib/errors';
import { canonicalJson, computeContentHash } from '../../lib/sync';

/** The same object with its keys in another order, at every depth. */
function reordered(value: unknown, pick: (length: number) => number[]): unknown {
  if (Array.isArray(value)) return value.map((item) => reordered(item, pick));
  if (typeof value !== 'object' || value === null) return value;
  const entries = Object.entries(value);
  const order = pick(entries.length);
  return Object.fromEntries(
    order.map((index) => entries[index] as [string, unknown]).map(([k, v]) => [k, reordered(v, pick)]),
  );
}

/** Records with nested objects and arrays, as JSON APIs send them. */
const jsonRecord = fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 4 }), { maxKeys: 8 });

describe('computeContentHash', () => {
  it('gives the same hash whatever order the keys are in, at every depth', () => {
    fc.assert(
      fc.property(jsonRecord, fc.integer(), (record, seed) => {
        // Prepare: a permutation chosen from the seed, applied to every object in the record.
        const pick = (length: number): number[] =>
          Array.from({ length }, (_, i) => i).sort(
            (a, b) => ((a * 7919 + seed) % 13) - ((b * 7919 + seed) % 13),
          );

        // Act
        const original = computeContentHash(record);
        const shuffled = computeContentHash(reordered(record, pick));

        // Assess
        expect(shuffled).toBe(original);
      }),
      { numRuns: 300 },
    );
  });

  it('gives different hashes when any nested value changes', () => {
    fc.assert(
      fc.property(jsonRecord, fc.string({ minLength: 1, maxLength: 8 }), (record, key) => {
        // Prepare: the same record with one more nested value.
        const changed = { ...record, nested: { [key]: record } };
        const original = { ...record, nested: { [key]: null } };

        // Act / Assess
        expect(computeContentHash(changed)).not.toBe(computeContentHash(original));
      }),
      { numRuns: 200 },
    );
  });

  it('is a SHA-256 in lower-case hex of the canonical JSON', () => {
    // Prepare
    const record = { b: [3, { z: 1, y: 2 }], a: 'x', c: { e: true, d: null } };

    // Act
    const text = canonicalJson(record);
    const hash = computeContentHash(record);

    // Assess: keys sorted at every depth, array order kept.
    expect(text).toBe('{"a":"x","b":[3,{"y":2,"z":1}],"c":{"d":null,"e":true}}');
    expect(hash).toBe('11dfabe5a349f0181f346fc08b4b1227e309ba19e4696e6a0f005c98bb84a5e2');
  });

  it('keeps array order significant', () => {
    expect(computeContentHash({ tags: ['a', 'b'] })).not.toBe(computeContentHash({ tags: ['b', 'a'] }));
  });

  it('treats a key whose value is undefined as absent, and Dates as their ISO strings', () => {
    const at = new Date('2024-05-01T00:00:00Z');
    expect(computeContentHash({ a: 1, b: undefined })).toBe(computeContentHash({ a: 1 }));
    expect(computeContentHash({ at })).toBe(computeContentHash({ at: '2024-05-01T00:00:00.000Z' }));
    expect(computeContentHash({ n: -0 })).toBe(computeContentHash({ n: 0 }));
  });

  it('fails when a value cannot be held by JSON, naming its path', () => {
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    expect(() => computeContentHash({ items: [{ price: Number.NaN }] })).toThrow(
      /\$\.items\[0\]\.price is NaN/,
    );
    expect(() => computeContentHash({ big: 1n })).toThrow(ValidationError);
    expect(() => computeContentHash([1, undefined])).toThrow(/\$\[1\] is undefined inside an array/);
    expect(() => computeContentHash(cyclic)).toThrow(/\$\.self refers back to itself/);
    expect(() => computeContentHash(undefined)).toThrow(/\$ is undefined/);
  });
});
