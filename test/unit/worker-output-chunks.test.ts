import { describe, expect, it } from 'vitest';
import { MAX_OUTPUTS_PER_CHUNK, planChunks } from '../../lib/worker/output-chunks';

/** Events numbered from 0, each with the given number of outputs. */
function eventsWith(outputs: readonly number[]) {
  return outputs.map((count, n) => ({ n, count }));
}

const sizes = (chunks: { n: number; count: number }[][]) => chunks.map((chunk) => chunk.length);

describe('planChunks', () => {
  it('keeps a message whose outputs fit in one transaction in one chunk', () => {
    const chunks = planChunks(eventsWith(Array(99).fill(1)), (event) => event.count);
    expect(sizes(chunks)).toEqual([99]);
  });

  it('splits 100 events with one output each (101 writes with the marker) in two', () => {
    const chunks = planChunks(eventsWith(Array(100).fill(1)), (event) => event.count);
    expect(sizes(chunks)).toEqual([99, 1]);
  });

  it('never splits the outputs of one event, and keeps the events in order', () => {
    // Act
    const chunks = planChunks(eventsWith(Array(100).fill(2)), (event) => event.count);

    // Assess
    expect(sizes(chunks)).toEqual([49, 49, 2]);
    expect(chunks.flat().map((event) => event.n)).toEqual([...Array(100).keys()]);
    for (const chunk of chunks)
      expect(chunk.reduce((sum, event) => sum + event.count, 0)).toBeLessThanOrEqual(MAX_OUTPUTS_PER_CHUNK);
  });

  it('gives an event with more outputs than a transaction holds a chunk of its own', () => {
    const chunks = planChunks(eventsWith([1, 150, 0, 1]), (event) => event.count);
    expect(chunks.map((chunk) => chunk.map((event) => event.n))).toEqual([[0], [1], [2, 3]]);
  });

  it('puts events without outputs in one chunk, and plans nothing for no events', () => {
    expect(sizes(planChunks(eventsWith(Array(100).fill(0)), (event) => event.count))).toEqual([100]);
    expect(planChunks([], () => 0)).toEqual([]);
  });
});
