// Throughput history as one line of block heights, newest on the right, scaled to the largest
// sample shown (so a quiet hour still has shape).

import type {Glyphs} from '../glyphs.js';

export function sparkline(samples: readonly number[], width: number, glyphs: Glyphs): string {
  if (width <= 0) return '';
  const shown = samples.slice(-width);
  const max = Math.max(0, ...shown.filter((value) => Number.isFinite(value)));
  const levels = glyphs.sparkLevels;
  const line = shown
    .map((value) => {
      if (!Number.isFinite(value) || value <= 0 || max <= 0) return ' ';
      const index = Math.min(levels.length - 1, Math.max(0, Math.ceil((value / max) * levels.length) - 1));
      return levels[index];
    })
    .join('');
  return line.padStart(width, ' ');
}
