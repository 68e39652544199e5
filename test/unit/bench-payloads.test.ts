import { brotliCompressSync, deflateRawSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { benchEvent } from '../../bench/support/bench-events';
import { compressionRatios, PAYLOAD_BYTES, PAYLOADS, payloadData } from '../../bench/support/payloads';

const SAMPLE = 500;

function jsonOf(payload: (typeof PAYLOADS)[number], n: number): string {
  return JSON.stringify(payloadData(payload, n));
}

describe('benchmark payloads', () => {
  it.each(PAYLOADS)(
    'gives the same %s event for the same number, and different ones for others',
    (payload) => {
      // Act
      const first = jsonOf(payload, 42);
      const again = jsonOf(payload, 42);
      const other = jsonOf(payload, 43);

      // Assess
      expect(again).toBe(first);
      expect(other).not.toBe(first);
    },
  );

  it('makes realistic events of about 1 KB of valid JSON, each carrying its number', () => {
    // Act
    const sizes = Array.from({ length: SAMPLE }, (_, n) => {
      const json = jsonOf('realistic', n);
      expect((JSON.parse(json) as { n: number }).n).toBe(n);
      return Buffer.byteLength(json);
    });

    // Assess
    const mean = sizes.reduce((sum, size) => sum + size, 0) / sizes.length;
    expect(mean).toBeGreaterThan(PAYLOAD_BYTES * 0.95);
    expect(mean).toBeLessThan(PAYLOAD_BYTES * 1.05);
    expect(Math.min(...sizes)).toBeGreaterThan(700);
    expect(Math.max(...sizes)).toBeLessThan(1_400);
  });

  it('varies what an order holds: ids, e-mail addresses, amounts, one to five line items', () => {
    // Act
    const orders = Array.from({ length: SAMPLE }, (_, n) => payloadData('realistic', n));

    // Assess
    expect(new Set(orders.map((order) => order.orderId)).size).toBe(SAMPLE);
    expect(new Set(orders.map((order) => order.customer.email)).size).toBeGreaterThan(SAMPLE * 0.9);
    expect(new Set(orders.map((order) => order.totalCents)).size).toBeGreaterThan(SAMPLE * 0.9);
    expect(new Set(orders.map((order) => order.items.length))).toEqual(new Set([1, 2, 3, 4, 5]));
    for (const order of orders) {
      expect(order.customer.email).toMatch(/^[a-z]+\.[a-z]+\d+@[a-z.]+$/);
      expect(Number.isNaN(Date.parse(order.placedAt))).toBe(false);
      expect(order.totalCents).toBe(order.subtotalCents + order.shippingCents + order.taxCents);
    }
  });

  it('makes incompressible events of exactly 1 KB of JSON', () => {
    for (let n = 0; n < 50; n += 1) {
      const json = jsonOf('incompressible', n);
      expect(Buffer.byteLength(json)).toBe(PAYLOAD_BYTES);
      expect((JSON.parse(json) as { n: number }).n).toBe(n);
    }
  });

  it('compresses incompressible events no smaller than the random bytes their base64 carries', () => {
    // Prepare: 100 events together give a compressor the most to find.
    const json = `[${Array.from({ length: 100 }, (_, n) => jsonOf('incompressible', n)).join(',')}]`;
    const randomBytes = (Buffer.byteLength(json) * 3) / 4;

    // Act
    const deflated = deflateRawSync(Buffer.from(json)).byteLength;
    const brotli = brotliCompressSync(Buffer.from(json)).byteLength;

    // Assess: base64 carries 6 bits a character, so 3/4 of its size is all a compressor can take.
    expect(deflated).toBeGreaterThan(randomBytes * 0.97);
    expect(brotli).toBeGreaterThan(randomBytes * 0.97);
  });

  it('reports realistic events compressing far better than incompressible ones', () => {
    // Act
    const realistic = compressionRatios('realistic', 200);
    const incompressible = compressionRatios('incompressible', 200);

    // Assess
    expect(realistic.deflateRawSingle).toBeGreaterThan(1.4);
    expect(realistic.deflateRawBatch100).toBeGreaterThan(realistic.deflateRawSingle);
    expect(realistic.brotliBatch100).toBeGreaterThan(3);
    expect(incompressible.meanEventBytes).toBe(PAYLOAD_BYTES);
    expect(incompressible.deflateRawBatch100).toBeLessThan(1.4);
    expect(incompressible.brotliBatch100).toBeLessThan(1.4);
  });

  it('fails when the sample is not a multiple of 100', () => {
    expect(() => compressionRatios('realistic', 150)).toThrow(/multiple of 100 \(given 150\)/);
  });

  it('builds benchmark events of the realistic payload unless told otherwise', () => {
    expect(benchEvent(3).data).toEqual(payloadData('realistic', 3));
    expect(benchEvent(3, 'incompressible').data).toEqual(payloadData('incompressible', 3));
  });
});
