// How this terminal wants things drawn: glyph set and whether colour is allowed. Decided once at
// start from the environment and handed to every panel through a React context.

import {createContext, useContext} from 'react';
import {UNICODE_GLYPHS, pickGlyphs, type Glyphs} from './glyphs.js';

export interface DisplayOptions {
  readonly glyphs: Glyphs;
  /** False under NO_COLOR (https://no-color.org) or TERM=dumb: no colour at all, only inverse/bold. */
  readonly color: boolean;
}

export function colorAllowed(env: NodeJS.ProcessEnv): boolean {
  if (env['NO_COLOR'] !== undefined && env['NO_COLOR'] !== '') return false;
  return env['TERM'] !== 'dumb';
}

export function displayOptionsFrom(env: NodeJS.ProcessEnv, argv: readonly string[] = []): DisplayOptions {
  return {glyphs: pickGlyphs(env, argv), color: colorAllowed(env) && !argv.includes('--no-color')};
}

export const DisplayContext = createContext<DisplayOptions>({glyphs: UNICODE_GLYPHS, color: true});

export function useDisplay(): DisplayOptions {
  return useContext(DisplayContext);
}

/** A colour name when colour is allowed, else undefined (so <Text color={...}> draws plain). */
export function tint(display: DisplayOptions, color: string | undefined): string | undefined {
  return display.color ? color : undefined;
}
