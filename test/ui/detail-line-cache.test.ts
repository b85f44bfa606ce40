// The mailbox detail built with its line cache (as the detail view does for every snapshot) is
// the detail built from scratch, through changing counts, folders, items, widths and glyphs.

import {describe, it} from 'node:test';
import assert from 'node:assert/strict';
import type {MailboxDetail} from '../../source/engine/scheduler/batch-snapshot.js';
import {ASCII_GLYPHS, UNICODE_GLYPHS} from '../../source/ui/glyphs.js';
import {DetailLineCache} from '../../source/ui/view-state/detail-line-cache.js';
import {detailDocument} from '../../source/ui/view-state/detail-lines.js';
import {fakeMailbox} from '../helpers/fake-batch-control.js';

function detail(emailAddress: string, folders: number, round: number): MailboxDetail {
  return {
    emailAddress,
    // New objects every time, as the engine's getMailboxDetail builds them.
    folders: Array.from({length: folders}, (_, index) => ({
      source: `Projects/Client ${index}/Mail`,
      target: index % 3 === 0 ? `Projects.Client ${index}.Mail` : `Projects/Client ${index}/Mail`,
      total: 100 + index,
      done: Math.min(100 + index, index === round % folders ? 50 + round : 10 * index),
      skipped: index % 7 === 0 ? 1 : 0,
      failed: index === 4 && round > 2 ? 1 : 0,
      bytesDone: index * round,
    })),
    skipped: ITEMS.slice(0, 3 + (round % 3)),
    failed: round > 1 ? ITEMS.slice(5, 7) : [],
    changed: [],
    errors: [],
    unmigratedFolders: [],
    renamedFolders: [],
    droppedKeywords: [],
  };
}

// The same records in each detail, as the engine hands out its stored items.
const ITEMS = Array.from({length: 8}, (_, index) => ({folder: `Projects/Client ${index}/Mail`, uid: 100 + index, size: 60_000_000 + index, reason: `larger than the limit of the target server, which refuses messages over 50M (${index})`, ...(index % 2 ? {subject: `Report ${index}`} : {})}));

describe('DetailLineCache', () => {
  it('gives the same document as building from scratch, and reuses the lines that did not change', () => {
    const cache = new DetailLineCache();
    const now = new Date('2026-03-01T12:00:00Z');
    const steps: {email: string; folders: number; round: number; width: number; glyphs: typeof UNICODE_GLYPHS}[] = [];
    for (let round = 0; round < 6; round++) steps.push({email: 'a@example.org', folders: 30 + (round === 4 ? 2 : 0), round, width: 80, glyphs: UNICODE_GLYPHS});
    steps.push({email: 'a@example.org', folders: 30, round: 6, width: 50, glyphs: UNICODE_GLYPHS});
    steps.push({email: 'a@example.org', folders: 30, round: 6, width: 50, glyphs: ASCII_GLYPHS});
    steps.push({email: 'b@example.org', folders: 12, round: 0, width: 50, glyphs: ASCII_GLYPHS});
    steps.push({email: 'b@example.org', folders: 12, round: 1, width: 20, glyphs: ASCII_GLYPHS});
    let previous: readonly {text: string}[] | undefined;
    for (const [index, step] of steps.entries()) {
      const before = steps[index - 1];
      const mailbox = fakeMailbox(step.email, {status: 'Syncing', itemsDone: step.round, itemsTotal: 100});
      const input = detail(step.email, step.folders, step.round);
      const options = {width: step.width, glyphs: step.glyphs, now};
      const cached = detailDocument(mailbox, input, {...options, cache});
      assert.deepEqual(cached, detailDocument(mailbox, input, options), `round ${step.round} ${step.email} width ${step.width}`);
      if (previous && before && before.email === step.email && before.width === step.width && before.glyphs === step.glyphs) {
        const reused = cached.lines.filter((line) => previous!.includes(line)).length;
        // 30 folders and the skipped items, less the folder and the lines a round changes.
        assert.ok(reused >= 25, `round ${step.round}: ${reused} lines reused`);
      }
      previous = cached.lines;
    }
  });
});
