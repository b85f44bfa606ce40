// What a setup form is made of, as data: the panels draw these, the drafts decide which to show.

export type FormField =
  | {kind: 'text'; id: string; label: string; mask?: boolean; placeholder?: string; help?: string}
  | {kind: 'choice'; id: string; label: string; choices: readonly {value: string; label: string}[]; help?: string}
  | {kind: 'button'; id: string; label: string; help?: string};

export type FormValues = Readonly<Record<string, string>>;

export function cycleChoice(field: Extract<FormField, {kind: 'choice'}>, value: string | undefined, step: 1 | -1): string {
  const index = field.choices.findIndex((choice) => choice.value === value);
  const next = (Math.max(0, index) + step + field.choices.length) % field.choices.length;
  return field.choices[next]?.value ?? value ?? '';
}
