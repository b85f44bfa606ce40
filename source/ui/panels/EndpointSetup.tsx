// Setting up the source or the target: first a provider preset (ink-select-input), then the
// fields. The preset's hints (app passwords, OAuth2, connection limits) stay visible while the
// admin fills in the form. "Test connection" hands the draft to the connection test panel.

import React, {useCallback, useMemo, useState} from 'react';
import {Box, Text} from 'ink';
import SelectInput from 'ink-select-input';
import type {EndpointRole} from '../../imap/imap-error.js';
import {PRESETS, presetById, type ProviderPreset} from '../../imap/presets.js';
import {tint, useDisplay} from '../display-options.js';
import {fit} from '../format/text-fit.js';
import type {ActionId} from '../keymap.js';
import {useKeys} from '../use-keys.js';
import {draftFromPreset, draftProblems, draftValues, endpointFields, updateDraft, type EndpointDraft, type EndpointPrefill} from '../view-state/endpoint-draft.js';
import {Footer, type StatusMessage} from './Footer.js';
import {FormPanel} from './FormPanel.js';

/** The list's own indicator and colours, replaced so ASCII mode and NO_COLOR hold here too. */
function PresetIndicator({isSelected = false}: {isSelected?: boolean}): React.JSX.Element {
  const {glyphs} = useDisplay();
  return <Text>{isSelected ? `${glyphs.selected} ` : '  '}</Text>;
}

function PresetItem({isSelected = false, label}: {isSelected?: boolean; label: string}): React.JSX.Element {
  const display = useDisplay();
  return (
    <Text color={tint(display, isSelected ? 'cyan' : undefined)} inverse={isSelected && !display.color}>
      {label}
    </Text>
  );
}

const ROLE_TITLE: Record<EndpointRole, string> = {source: 'Source server (where the mail is now)', target: 'Target server (where the mail goes)'};

export interface EndpointSetupProps {
  role: EndpointRole;
  /** Undefined until a preset was chosen. */
  draft: EndpointDraft | undefined;
  prefill?: EndpointPrefill | undefined;
  step: string;
  width: number;
  height: number;
  isActive: boolean;
  status?: StatusMessage | undefined;
  onDraftChange(next: EndpointDraft | undefined | ((current: EndpointDraft | undefined) => EndpointDraft | undefined)): void;
  onTest(draft: EndpointDraft): void;
  onBack(): void;
  /** Leave the whole setup (q on the preset list). */
  onQuit(): void;
  onInterrupt(): void;
}

function PresetList(props: {
  role: EndpointRole;
  step: string;
  width: number;
  height: number;
  isActive: boolean;
  initial: string | undefined;
  onChoose(preset: ProviderPreset): void;
  onBack(): void;
  onQuit(): void;
  onInterrupt(): void;
}): React.JSX.Element {
  const display = useDisplay();
  const items = useMemo(() => PRESETS.map((preset) => ({key: preset.id, label: preset.label, value: preset.id})), []);
  const initialIndex = Math.max(0, PRESETS.findIndex((preset) => preset.id === props.initial));
  const [highlighted, setHighlighted] = useState(PRESETS[initialIndex]?.id ?? 'other');
  const onAction = useCallback(
    (action: ActionId) => {
      if (action === 'presetBack') props.onBack();
      else if (action === 'quit') props.onQuit();
      else if (action === 'interrupt') props.onInterrupt();
    },
    [props],
  );
  useKeys('preset-list', onAction, {isActive: props.isActive});
  const preset = presetById(highlighted);
  const hintRows = Math.max(0, props.height - PRESETS.length - 6);
  const hints = preset ? [`${preset.host || 'any host'}:${preset.port} ${preset.security}${preset.oauth2 !== 'none' ? `, OAuth2 ${preset.oauth2}` : ''}`, ...preset.hints] : [];
  return (
    <Box flexDirection="column" height={props.height} flexShrink={0}>
      <Text wrap="truncate" bold inverse>
        {fit(`${props.step}  ${ROLE_TITLE[props.role]}: choose a provider`, props.width, display.glyphs.ellipsis)}
      </Text>
      <SelectInput
        items={items}
        initialIndex={initialIndex}
        isFocused={props.isActive}
        indicatorComponent={PresetIndicator}
        itemComponent={PresetItem}
        onHighlight={(item) => setHighlighted(item.value)}
        onSelect={(item) => {
          const chosen = presetById(item.value);
          if (chosen) props.onChoose(chosen);
        }}
      />
      <Text> </Text>
      {hints.slice(0, hintRows).map((hint, index) => (
        <Text key={index} wrap="truncate" dimColor={display.color && index > 0}>
          {fit(index === 0 ? hint : `${display.glyphs.separator} ${hint}`, props.width, display.glyphs.ellipsis)}
        </Text>
      ))}
      <Box flexGrow={1} />
      <Footer screen="preset-list" width={props.width} />
    </Box>
  );
}

export function EndpointSetup(props: EndpointSetupProps): React.JSX.Element {
  const {role, draft} = props;
  const [problems, setProblems] = useState<Record<string, string>>({});
  // Prefilled (mailferry demo): the admin only has to press Enter to test.
  const [focus, setFocus] = useState<{id: string} | undefined>(() => (props.draft && props.prefill?.host ? {id: 'test'} : undefined));

  const onChange = useCallback(
    (id: string, value: string) => {
      if (!draft) return;
      props.onDraftChange((current) => (current ? updateDraft(current, id, value) : current));
      if (problems[id]) {
        const {[id]: _fixed, ...rest} = problems;
        setProblems(rest);
      }
    },
    [draft, problems, props],
  );

  const onButton = useCallback(
    (id: string) => {
      if (!draft) return;
      if (id === 'back') {
        props.onDraftChange(undefined);
        return;
      }
      const found = draftProblems(role, draft);
      setProblems(found);
      const first = endpointFields(role, draft).find((field) => found[field.id] !== undefined);
      if (first) {
        setFocus({id: first.id});
        return;
      }
      props.onTest(draft);
    },
    [draft, role, props],
  );

  if (!draft) {
    return (
      <PresetList
        role={role}
        step={props.step}
        width={props.width}
        height={props.height}
        isActive={props.isActive}
        initial={props.prefill?.preset}
        onChoose={(preset) => props.onDraftChange(draftFromPreset(preset, {...(props.prefill?.preset === preset.id || preset.id === 'other' ? props.prefill : {}), preset: preset.id}))}
        onBack={props.onBack}
        onQuit={props.onQuit}
        onInterrupt={props.onInterrupt}
      />
    );
  }
  const preset = presetById(draft.preset);
  return (
    <FormPanel
      title={`${props.step}  ${ROLE_TITLE[role]}: ${preset?.label ?? draft.preset}`}
      fields={endpointFields(role, draft)}
      values={draftValues(draft)}
      problems={problems}
      notes={preset?.hints.map((hint) => `- ${hint}`) ?? []}
      status={props.status}
      width={props.width}
      height={props.height}
      isActive={props.isActive}
      focusRequest={focus}
      onChange={onChange}
      onButton={onButton}
      onBack={() => props.onDraftChange(undefined)}
      onInterrupt={props.onInterrupt}
    />
  );
}
