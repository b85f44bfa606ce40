// A fixed-width bar. With UTF-8 the last cell uses eighth blocks so that slow mailboxes still move
// visibly; in ASCII the bar only fills whole cells.

import type {Glyphs} from '../glyphs.js';

export function progressBar(done: number, total: number, width: number, glyphs: Glyphs): string {
  if (width <= 0) return '';
  const fraction = total > 0 ? Math.max(0, Math.min(1, done / total)) : 0;
  const steps = glyphs.barPartials.length;
  const filledSteps = Math.floor(fraction * width * steps);
  const full = Math.floor(filledSteps / steps);
  const remainder = filledSteps % steps;
  const fullCell = glyphs.barPartials[steps - 1] ?? '#';
  let bar = fullCell.repeat(full);
  if (full < width && remainder > 0) bar += glyphs.barPartials[remainder - 1];
  return bar + glyphs.barEmpty.repeat(width - bar.length);
}
