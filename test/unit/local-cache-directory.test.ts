import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultCacheDirectory } from '../../lib/local/install-dynamodb-local';

describe('defaultCacheDirectory', () => {
  it("is a per-user cache, not the project's folder", () => {
    expect(defaultCacheDirectory({})).toBe(join(homedir(), '.cache', 'sluice'));
    expect(defaultCacheDirectory({ XDG_CACHE_HOME: '/var/cache/me' })).toBe('/var/cache/me/sluice');
  });

  it('is SLUICE_CACHE_DIR when set, as CI sets it to the clone', () => {
    expect(defaultCacheDirectory({ SLUICE_CACHE_DIR: '.cache', XDG_CACHE_HOME: '/x' })).toBe(
      resolve('.cache'),
    );
  });
});
