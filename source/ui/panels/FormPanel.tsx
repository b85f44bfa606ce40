// A vertical form of text fields, choices and buttons, used by the endpoint and settings panels.
// Tab/Down and Shift-Tab/Up move between fields, Enter moves on (or presses a button), Left/Right
// or Space change a choice, Esc (or the Back button) goes back. The focused field's help text and
// its problem, if any, are shown under the form.

import React, {useCallback, useEffect, useState} from 'react';
import {Box, Text} from 'ink';
import {tint, useDisplay} from '../display-options.js';
import {fit} from '../format/text-fit.js';
import type {ActionId} from '../keymap.js';
import {useKeys} from '../use-keys.js';
import {useSyncedState} from '../use-synced-state.js';
import {windowAround} from '../view-state/list-window.js';
import {Footer, type StatusMessage} from './Footer.js';
import {TextField} from './TextField.js';
import {cycleChoice, type FormField, type FormValues} from '../view-state/form-fields.js';

export type {FormField, FormValues} from '../view-state/form-fields.js';

export interface FormPanelProps {
  title: string;
  fields: readonly FormField[];
  values: FormValues;
  problems?: Readonly<Record<string, string>>;
  /** Lines shown under the form (provider hints, what the step does). */
  notes?: readonly string[];
  status?: StatusMessage | undefined;
  width: number;
  height: number;
  isActive: boolean;
  /** Move the focus to this field; a new object each time, so the same field can be asked for twice. */
  focusRequest?: {readonly id: string} | undefined;
  onChange(id: string, value: string): void;
  onButton(id: string): void;
  onBack(): void;
  onInterrupt(): void;
}

export function FormPanel(props: FormPanelProps): React.JSX.Element {
  const {fields, values, width, height} = props;
  const display = useDisplay();
  const {glyphs} = display;
  const [focusId, setFocusId, focusRef] = useSyncedState<string>(props.focusRequest?.id ?? fields[0]?.id ?? '');
  const [listening, setListening] = useState<string | undefined>();
  const focusIndex = Math.max(0, fields.findIndex((field) => field.id === focusId));
  const focused = fields[focusIndex];
  /** The focused field as of the keys typed so far (Tab then Enter may beat the next render). */
  const focusedNow = useCallback(() => {
    const index = Math.max(0, fields.findIndex((field) => field.id === focusRef.current));
    return {index, field: fields[index]};
  }, [fields, focusRef]);

  useEffect(() => {
    if (props.focusRequest) setFocusId(props.focusRequest.id);
  }, [props.focusRequest, setFocusId]);

  const move = useCallback(
    (step: number) => {
      const next = fields[(focusedNow().index + step + fields.length) % fields.length];
      if (next) setFocusId(next.id);
    },
    [fields, focusedNow, setFocusId],
  );

  const onAction = useCallback(
    (action: ActionId) => {
      const focused = focusedNow().field;
      if (!focused) return;
      switch (action) {
        case 'nextField':
          move(1);
          return;
        case 'previousField':
          move(-1);
          return;
        case 'activateField':
          if (focused.kind === 'button') props.onButton(focused.id);
          else move(1);
          return;
        case 'choiceNext':
        case 'choicePrevious':
          if (focused.kind === 'choice') props.onChange(focused.id, cycleChoice(focused, values[focused.id], action === 'choiceNext' ? 1 : -1));
          return;
        case 'formBack':
          props.onBack();
          return;
        case 'interrupt':
          props.onInterrupt();
          return;
        default:
          return;
      }
    },
    [focusedNow, move, props, values],
  );
  useKeys(focused?.kind === 'choice' ? 'form-choice' : 'form-text', onAction, {isActive: props.isActive});

  const labelWidth = Math.min(34, Math.max(...fields.map((field) => (field.kind === 'button' ? 0 : field.label.length))) + 1);
  const notes = props.notes ?? [];
  const problem = focused ? props.problems?.[focused.id] : undefined;
  const problemCount = Object.keys(props.problems ?? {}).length;
  // Title, blank, help, problem line, footer (2) around the fields; notes get what is left.
  const fieldRows = Math.max(3, Math.min(fields.length, height - 6));
  const window = windowAround(focusIndex, 0, fields.length, fieldRows);
  const noteRows = Math.max(0, height - 6 - (window.end - window.start));
  const shownNotes = notes.slice(0, noteRows);

  return (
    <Box flexDirection="column" height={height} flexShrink={0}>
      <Text wrap="truncate" bold inverse>
        {fit(props.title, width, glyphs.ellipsis)}
      </Text>
      {fields.slice(window.start, window.end).map((field) => {
        const isFocused = field.id === focused?.id;
        const hasProblem = props.problems?.[field.id] !== undefined;
        // Without colour a field with a problem still stands out.
        // A text field shows the focus once it takes keys (see TextField's onListening).
        const shownFocused = isFocused && (field.kind !== 'text' || !props.isActive || listening === field.id);
        const marker = shownFocused ? glyphs.selected : hasProblem ? '!' : ' ';
        if (field.kind === 'button') {
          return (
            <Text key={field.id} wrap="truncate" inverse={isFocused} bold>
              {`${marker} [ ${field.label} ]`}
            </Text>
          );
        }
        const label = `${marker} ${fit(field.label, labelWidth, glyphs.ellipsis)} `;
        if (field.kind === 'choice') {
          const value = values[field.id];
          return (
            <Text key={field.id} wrap="truncate">
              <Text inverse={isFocused} color={tint(display, hasProblem ? 'red' : undefined)}>
                {label}
              </Text>
              {field.choices.map((choice) => (choice.value === value ? `[${choice.label}]` : ` ${choice.label} `)).join(' ')}
            </Text>
          );
        }
        const value = values[field.id] ?? '';
        return (
          <Box key={field.id} height={1} overflow="hidden">
            <Text wrap="truncate" inverse={shownFocused} color={tint(display, hasProblem ? 'red' : undefined)}>
              {label}
            </Text>
            {isFocused && props.isActive ? (
              <TextField value={value} onChange={(next) => props.onChange(field.id, next)} focus mask={field.mask ? '*' : undefined} placeholder={field.placeholder} onListening={(on) => setListening((current) => (on ? field.id : current === field.id ? undefined : current))} />
            ) : (
              <Text wrap="truncate" dimColor={value === '' && display.color}>
                {field.mask ? (value ? '(set)' : '') : value || field.placeholder || ''}
              </Text>
            )}
          </Box>
        );
      })}
      <Text> </Text>
      <Text wrap="truncate" dimColor={display.color}>
        {fit(focused?.help ?? '', width, glyphs.ellipsis)}
      </Text>
      <Text wrap="truncate" color={tint(display, 'red')} bold={!display.color}>
        {fit(problem ? `${glyphs.failed} ${problem}` : problemCount > 0 ? `${problemCount} field${problemCount === 1 ? '' : 's'} need${problemCount === 1 ? 's' : ''} attention` : '', width, glyphs.ellipsis)}
      </Text>
      {shownNotes.map((note, index) => (
        <Text key={index} wrap="truncate">
          {fit(note, width, glyphs.ellipsis)}
        </Text>
      ))}
      <Box flexGrow={1} />
      <Footer screen={focused?.kind === 'choice' ? 'form-choice' : 'form-text'} width={width} status={props.status} />
    </Box>
  );
}
