// The pure parts of the future-internal-date check: parsing IMAP date-times (offsets that are not
// whole hours included) and which copied messages are read back from the target.

import {describe, it} from 'node:test';
import assert from 'node:assert/strict';
import {FutureDates, parseImapDateTime} from '../source/engine/copy/internal-date-check.js';

describe('internal-date-check', () => {
  it('parses IMAP date-times as instants, whatever the offset', () => {
    assert.equal(parseImapDateTime('15-Jun-2099 09:30:00 -0230')?.toISOString(), '2099-06-15T12:00:00.000Z');
    assert.equal(parseImapDateTime(' 1-Jan-1970 05:30:01 +0530')?.toISOString(), '1970-01-01T00:00:01.000Z');
    assert.equal(parseImapDateTime('20-Jan-2038 06:30:00 -0330')?.toISOString(), '2038-01-20T10:00:00.000Z');
    assert.equal(parseImapDateTime('not a date'), undefined);
    assert.equal(parseImapDateTime('15-Foo-2099 09:30:00 -0230'), undefined);
  });

  it('notes only dates past the clock (beyond skew), and hands back only the copied ones', () => {
    const now = Date.UTC(2026, 0, 1);
    const dates = new FutureDates();
    dates.note(1, new Date(now + 24 * 3600_000), now);
    dates.note(2, new Date(now + 60_000), now); // within clock skew
    dates.note(3, new Date(now - 3600_000), now);
    dates.note(4, '15-Jun-2099 09:30:00 -0230', now);
    dates.note(5, undefined, now);
    dates.note(6, new Date(now + 48 * 3600_000), now);
    assert.deepEqual([...dates.copied((uid) => uid !== 6).keys()].sort(), [1, 4]);
  });
});
