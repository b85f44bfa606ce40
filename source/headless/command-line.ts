// Flags and arguments of a headless command, on node's own parseArgs. meow did this before; its
// bundled dependencies take ~40 ms to load, which is a quarter of a whole no-change pass.
// Flags are declared in camelCase and given in kebab-case (--state-dir -> stateDir).

import {parseArgs} from 'node:util';

export interface FlagSpec {
  type: 'string' | 'number' | 'boolean';
  isMultiple?: boolean;
  shortFlag?: string;
  default?: string | number | boolean;
}

export interface CommandLine {
  /** Positional arguments, in order. */
  input: string[];
  /** Known flags by camelCase name; numbers are Number() of the text (NaN when not a number). */
  flags: Record<string, unknown>;
  /** Options that are not declared, as typed (kebab-case, without the dashes). */
  unknown: string[];
}

/** A usage mistake: the message says which flag and what is wrong. */
export class CommandLineError extends Error {}

export function kebab(name: string): string {
  return name.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`);
}

export function parseCommandLine(argv: readonly string[], specs: Readonly<Record<string, FlagSpec>>): CommandLine {
  const options: Record<string, {type: 'string' | 'boolean'; multiple?: boolean; short?: string}> = {};
  const byKebab = new Map<string, [string, FlagSpec]>();
  for (const [name, spec] of Object.entries(specs)) {
    const key = kebab(name);
    byKebab.set(key, [name, spec]);
    options[key] = {
      type: spec.type === 'boolean' ? 'boolean' : 'string',
      ...(spec.isMultiple ? {multiple: true} : {}),
      ...(spec.shortFlag ? {short: spec.shortFlag} : {}),
    };
  }
  // Not strict: unknown options are reported by name below, with the command's own wording.
  const {positionals, tokens} = parseArgs({args: [...argv], options, strict: false, allowPositionals: true, tokens: true});
  const flags: Record<string, unknown> = {};
  const unknown: string[] = [];
  const seen = new Set<string>();
  for (const token of tokens) {
    if (token.kind !== 'option') continue;
    const known = byKebab.get(token.name);
    if (!known) {
      if (!unknown.includes(token.name)) unknown.push(token.name);
      continue;
    }
    const [name, spec] = known;
    if (seen.has(name) && !spec.isMultiple) throw new CommandLineError(`the flag --${token.name} can only be set once`);
    seen.add(name);
    if (spec.type === 'boolean') {
      flags[name] = true;
      continue;
    }
    // parseArgs takes the next word as the value even when it is another option (--csv --json).
    if (token.value === undefined || (!token.inlineValue && token.value.startsWith('--'))) {
      throw new CommandLineError(`--${token.name} needs a value`);
    }
    const value = spec.type === 'number' ? Number(token.value) : token.value;
    if (spec.isMultiple) (flags[name] as unknown[] | undefined)?.push(value) ?? (flags[name] = [value]);
    else flags[name] = value;
  }
  for (const [name, spec] of Object.entries(specs)) {
    if (flags[name] === undefined && spec.default !== undefined) flags[name] = spec.default;
  }
  return {input: positionals, flags, unknown};
}
