import { describe, expect, it } from 'vitest';
import { COMMANDS } from './index.js';

describe('command index', () => {
  it("each entry's name and summary are its module's own (the index only defers the import)", async () => {
    for (const entry of COMMANDS) {
      const cmd = await entry.load();
      expect({ name: cmd.name, summary: cmd.summary }).toEqual({ name: entry.name, summary: entry.summary });
    }
  });
});
