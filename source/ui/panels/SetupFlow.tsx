// Setting up a new batch, one panel per step: source endpoint, its connection test, target
// endpoint, its test, users, batch settings; then the batch is created and handed to the grid.
// Everything typed is kept while the admin goes back and forth; admin passwords stay in memory.

import React, {useCallback, useMemo, useState} from 'react';
import {Box, Text} from 'ink';
import type {BatchDefinition} from '../../engine/batch-model.js';
import type {ResolvedSecrets} from '../../engine/credentials/row-credentials.js';
import type {EndpointConfig, LoginIdentity} from '../../imap/endpoint.js';
import {formatError, MigrationError, type EndpointRole} from '../../imap/imap-error.js';
import {presetById} from '../../imap/presets.js';
import {useDisplay} from '../display-options.js';
import {fit} from '../format/text-fit.js';
import type {UiPrefill} from '../ui-prefill.js';
import type {UiServices} from '../ui-services.js';
import {
  draftFromPreset,
  endpointFromDraft,
  secretsFromDrafts,
  sourceCredentialsFromDraft,
  targetCredentialsFromDraft,
  testIdentity,
  type EndpointDraft,
} from '../view-state/endpoint-draft.js';
import {defaultBatchName, SETTINGS_FIELDS, settingsDraft, settingsFromDraft, settingsProblems, type SettingsDraft} from '../view-state/settings-draft.js';
import {ConnectionTest} from './ConnectionTest.js';
import {EndpointSetup} from './EndpointSetup.js';
import type {StatusMessage} from './Footer.js';
import {FormPanel} from './FormPanel.js';
import {HelpOverlay} from './HelpOverlay.js';
import {UsersPanel, type LoadedCsv} from './UsersPanel.js';

type Step = 'source' | 'source-test' | 'target' | 'target-test' | 'users' | 'settings' | 'creating';

const STEP_NUMBER: Record<Step, string> = {
  'source': '1/6',
  'source-test': '2/6',
  'target': '3/6',
  'target-test': '4/6',
  'users': '5/6',
  'settings': '6/6',
  'creating': '6/6',
};

const HELP_SECTION: Record<Step, string> = {
  'source': 'Setup forms',
  'source-test': 'Connection test',
  'target': 'Setup forms',
  'target-test': 'Connection test',
  'users': 'Users',
  'settings': 'Setup forms',
  'creating': 'Setup forms',
};

interface TestRun {
  readonly endpoint: EndpointConfig;
  readonly identity: LoginIdentity | undefined;
}

export interface SetupFlowProps {
  stateDir: string;
  services: UiServices;
  prefill?: UiPrefill | undefined;
  existingNames: readonly string[];
  width: number;
  height: number;
  isActive: boolean;
  onCreated(name: string, secrets: ResolvedSecrets): void;
  /** Back from the first step. */
  onCancel(): void;
  onInterrupt(): void;
}

function initialDraft(prefill: UiPrefill['source']): EndpointDraft | undefined {
  if (!prefill?.host) return undefined;
  return draftFromPreset(presetById(prefill.preset ?? 'other') ?? presetById('other')!, prefill);
}

function testRunFor(draft: EndpointDraft, role: EndpointRole): TestRun {
  let identity: LoginIdentity | undefined;
  try {
    identity = testIdentity(draft, role);
  } catch {
    identity = undefined;
  }
  return {endpoint: endpointFromDraft(draft), identity};
}

export function SetupFlow(props: SetupFlowProps): React.JSX.Element {
  const {services, prefill, width, height} = props;
  const display = useDisplay();
  const [step, setStep] = useState<Step>('source');
  const [sourceDraft, setSourceDraft] = useState<EndpointDraft | undefined>(() => initialDraft(prefill?.source));
  const [targetDraft, setTargetDraft] = useState<EndpointDraft | undefined>(() => initialDraft(prefill?.target));
  const [testRun, setTestRun] = useState<TestRun | undefined>();
  const [loaded, setLoaded] = useState<LoadedCsv | undefined>();
  const [settings, setSettings] = useState<SettingsDraft | undefined>();
  const [settingsIssues, setSettingsIssues] = useState<Record<string, string>>({});
  const [settingsFocus, setSettingsFocus] = useState<{id: string} | undefined>();
  const [status, setStatus] = useState<StatusMessage | undefined>();
  const [help, setHelp] = useState(false);

  const secrets = useMemo(() => (sourceDraft && targetDraft ? secretsFromDrafts(sourceDraft, targetDraft) : {}), [sourceDraft, targetDraft]);
  const loginDefinition = useMemo(() => {
    if (!sourceDraft || !targetDraft) return undefined;
    return {
      source: endpointFromDraft(sourceDraft),
      target: endpointFromDraft(targetDraft),
      sourceCredentials: sourceCredentialsFromDraft(sourceDraft),
      targetCredentials: targetCredentialsFromDraft(targetDraft),
    };
  }, [sourceDraft, targetDraft]);

  const openHelp = useCallback(() => setHelp(true), []);

  const goSettings = useCallback(() => {
    if (!settings && sourceDraft && targetDraft) {
      setSettings(
        settingsDraft({
          name: prefill?.batchName ?? defaultBatchName(new Date()),
          sourceMaxConnections: Number(sourceDraft.maxConnections) || 40,
          targetMaxConnections: Number(targetDraft.maxConnections) || 40,
          ...(prefill?.settings ? {settings: prefill.settings} : {}),
        }),
      );
    }
    setStep('settings');
  }, [settings, sourceDraft, targetDraft, prefill]);

  const create = useCallback(async () => {
    if (!settings || !sourceDraft || !targetDraft || !loaded) return;
    const issues = settingsProblems(settings, props.existingNames);
    setSettingsIssues(issues);
    const first = SETTINGS_FIELDS.find((field) => issues[field.id] !== undefined);
    if (first) {
      setSettingsFocus({id: first.id});
      return;
    }
    const chosen = settingsFromDraft(settings);
    const definition: BatchDefinition = {
      name: settings.name,
      createdAt: new Date().toISOString(),
      csvPath: loaded.path,
      source: {...endpointFromDraft(sourceDraft), maxConnections: chosen.sourceMaxConnections},
      target: {...endpointFromDraft(targetDraft), maxConnections: chosen.targetMaxConnections},
      sourceCredentials: sourceCredentialsFromDraft(sourceDraft),
      targetCredentials: targetCredentialsFromDraft(targetDraft),
      settings: chosen.settings,
    };
    setStep('creating');
    setStatus({text: `Creating batch ${definition.name}${display.glyphs.ellipsis}`, tone: 'info'});
    try {
      await services.createBatch({stateDir: props.stateDir, definition, rows: loaded.result.rows});
      props.onCreated(definition.name, secretsFromDrafts(sourceDraft, targetDraft));
    } catch (error) {
      setStep('settings');
      setStatus({text: error instanceof MigrationError ? formatError(error) : `Could not create the batch: ${String(error)}`, tone: 'error'});
    }
  }, [settings, sourceDraft, targetDraft, loaded, props, services, display.glyphs.ellipsis]);

  if (help) {
    return <HelpOverlay width={width} height={height} firstSection={HELP_SECTION[step]} isActive={props.isActive} onClose={() => setHelp(false)} onInterrupt={props.onInterrupt} />;
  }

  const stepLabel = `Step ${STEP_NUMBER[step]}`;
  switch (step) {
    case 'source':
    case 'target': {
      const role = step;
      const draft = role === 'source' ? sourceDraft : targetDraft;
      return (
        <EndpointSetup
          key={role}
          role={role}
          draft={draft}
          prefill={role === 'source' ? prefill?.source : prefill?.target}
          step={stepLabel}
          width={width}
          height={height}
          isActive={props.isActive}
          status={status}
          onDraftChange={role === 'source' ? setSourceDraft : setTargetDraft}
          onTest={(tested) => {
            setStatus(undefined);
            setTestRun(testRunFor(tested, role));
            setStep(role === 'source' ? 'source-test' : 'target-test');
          }}
          // Esc never quits: on the first step it only leads back to the batch list, if there is one.
          onBack={() => {
            if (role === 'target') setStep('source');
            else if (props.existingNames.length > 0) props.onCancel();
          }}
          onQuit={props.onCancel}
          onInterrupt={props.onInterrupt}
        />
      );
    }
    case 'source-test':
    case 'target-test': {
      const role = step === 'source-test' ? 'source' : 'target';
      const draft = role === 'source' ? sourceDraft : targetDraft;
      const run = testRun ?? (draft ? testRunFor(draft, role) : undefined);
      if (!run) {
        setStep(role);
        return <Text> </Text>;
      }
      return (
        <ConnectionTest
          key={step}
          role={role}
          endpoint={run.endpoint}
          identity={run.identity}
          services={services}
          step={stepLabel}
          width={width}
          height={height}
          isActive={props.isActive}
          onContinue={() => {
            setTestRun(undefined);
            setStep(role === 'source' ? 'target' : 'users');
          }}
          onEdit={() => setStep(role)}
          onHelp={openHelp}
          onInterrupt={props.onInterrupt}
        />
      );
    }
    case 'users':
      if (!loginDefinition) {
        setStep('source');
        return <Text> </Text>;
      }
      return (
        <UsersPanel
          services={services}
          definition={loginDefinition}
          secrets={secrets}
          loaded={loaded}
          initialPath={prefill?.csvPath}
          step={stepLabel}
          width={width}
          height={height}
          isActive={props.isActive}
          onLoaded={setLoaded}
          onContinue={goSettings}
          onBack={() => setStep('target')}
          onHelp={openHelp}
          onInterrupt={props.onInterrupt}
        />
      );
    case 'settings':
    case 'creating':
      if (!settings) {
        return (
          <Box height={height}>
            <Text>{fit('Preparing the settings', width, display.glyphs.ellipsis)}</Text>
          </Box>
        );
      }
      return (
        <FormPanel
          title={`${stepLabel}  Batch settings (${loaded?.result.rows.length ?? 0} users from ${loaded?.path ?? '?'})`}
          fields={SETTINGS_FIELDS}
          values={settings as unknown as Record<string, string>}
          problems={settingsIssues}
          focusRequest={settingsFocus}
          status={status}
          width={width}
          height={height}
          isActive={props.isActive && step === 'settings'}
          onChange={(id, value) => {
            setSettings((current) => (current ? {...current, [id]: value} : current));
            if (settingsIssues[id]) {
              const {[id]: _fixed, ...rest} = settingsIssues;
              setSettingsIssues(rest);
            }
          }}
          onButton={(id) => (id === 'create' ? void create() : setStep('users'))}
          onBack={() => setStep('users')}
          onInterrupt={props.onInterrupt}
        />
      );
  }
}
