import {describe, it} from 'node:test';
import assert from 'node:assert/strict';
import {turnOrder} from '../bench/runners/tool-runner.js';

describe('bench turn order', () => {
  it('starts each attempt with the next tool, so each runs first once in as many attempts as tools', () => {
    assert.deepEqual([1, 2, 3].map((attempt) => turnOrder(3, attempt)), [[0, 1, 2], [1, 2, 0], [2, 0, 1]]);
    assert.deepEqual([1, 2, 3].map((attempt) => turnOrder(2, attempt)), [[0, 1], [1, 0], [0, 1]]);
  });

  it('handles one tool and none', () => {
    assert.deepEqual(turnOrder(1, 5), [0]);
    assert.deepEqual(turnOrder(0, 2), []);
  });
});
