// truncate and fit skip splitting a text into characters when it has no astral characters (they
// run for every cell drawn); the result must be what splitting gives, for every kind of text.

import {describe, it} from 'node:test';
import assert from 'node:assert/strict';
import {fit, truncate} from '../../source/ui/format/text-fit.js';

/** The implementation before the fast path, character by character. */
function referenceTruncate(text: string, width: number, ellipsis: string): string {
  if (width <= 0) return '';
  const chars = Array.from(text);
  if (chars.length <= width) return text;
  if (width <= ellipsis.length) return chars.slice(0, width).join('');
  return chars.slice(0, width - ellipsis.length).join('') + ellipsis;
}

function referenceFit(text: string, width: number, ellipsis: string, align: 'left' | 'right'): string {
  const cut = referenceTruncate(text, width, ellipsis);
  const pad = width - Array.from(cut).length;
  if (pad <= 0) return cut;
  return align === 'left' ? cut + ' '.repeat(pad) : ' '.repeat(pad) + cut;
}

describe('truncate and fit', () => {
  const texts = ['', 'a', 'user00001@d07.example.org', 'Émile Zoë ÅÄÖ', 'Projects/2024/Client 0007/Correspondence', '📬 inbox 📬', 'a😀b😀c😀d', '日本語のフォルダ名', 'tab\there', '😀'];
  it('gives what splitting into characters gives, at every width, with both ellipses', () => {
    for (const text of texts) {
      for (let width = -1; width <= 45; width++) {
        for (const ellipsis of ['…', '...']) {
          assert.equal(truncate(text, width, ellipsis), referenceTruncate(text, width, ellipsis), `truncate ${JSON.stringify(text)} ${width} ${ellipsis}`);
          for (const align of ['left', 'right'] as const) {
            assert.equal(fit(text, width, ellipsis, align), referenceFit(text, width, ellipsis, align), `fit ${JSON.stringify(text)} ${width} ${ellipsis} ${align}`);
          }
        }
      }
    }
  });
});
