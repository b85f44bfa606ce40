// The UI's top level: the batch picker when batches exist, the setup flow when none does (or on
// `N`), the admin-password prompt a reopened batch may need, and the batch screen. It decides
// which one is in front; each of those owns its own keys.

import React, {useCallback, useEffect, useState} from 'react';
import {Box, Text} from 'ink';
import type {BatchControl} from '../engine/batch-control.js';
import type {BatchListing} from '../engine/batch-engine.js';
import type {ResolvedSecrets} from '../engine/credentials/row-credentials.js';
import {formatError, MigrationError} from '../imap/imap-error.js';
import {registerSecret} from '../log/secret-redaction.js';
import {useAppShell} from './app-shell.js';
import {tint, useDisplay} from './display-options.js';
import {fit} from './format/text-fit.js';
import type {ActionId} from './keymap.js';
import {BatchPicker} from './panels/BatchPicker.js';
import {BatchScreen} from './panels/BatchScreen.js';
import {ConfirmDialog, type Question} from './panels/ConfirmDialog.js';
import {Footer, type StatusMessage} from './panels/Footer.js';
import {FormPanel} from './panels/FormPanel.js';
import {HelpOverlay} from './panels/HelpOverlay.js';
import {SetupFlow} from './panels/SetupFlow.js';
import {useTerminalSize} from './terminal-size.js';
import type {UiPrefill} from './ui-prefill.js';
import {neededSecrets, type NeededSecret, type UiServices} from './ui-services.js';
import {useKeys} from './use-keys.js';
import {useTypeAhead} from './use-type-ahead.js';

type Route =
  | {kind: 'loading'; text: string}
  | {kind: 'picker'; batches: BatchListing[]}
  | {kind: 'setup'}
  | {kind: 'secret'; name: string; resume: boolean; pending: NeededSecret[]; typed: ResolvedSecrets}
  | {kind: 'batch'; control: BatchControl; status?: StatusMessage}
  | {kind: 'failed'; text: string; back: 'picker' | 'setup' | 'quit'};

export interface AppProps {
  stateDir: string;
  services: UiServices;
  batchName?: string | undefined;
  prefill?: UiPrefill | undefined;
  /**
   * The batches as listed before the first frame (runUi): the picker (or the setup, with none) is
   * then the first screen, so keys typed while mailferry starts go to it instead of to a loading
   * line that ignores them.
   */
  initialBatches?: BatchListing[] | undefined;
  /** Told whenever a batch is opened or closed, so signal handlers can close it cleanly. */
  onControl?: (control: BatchControl | undefined) => void;
}

function describe(error: unknown): string {
  if (error instanceof MigrationError) return formatError(error);
  return error instanceof Error ? error.message : String(error);
}

export function App({stateDir, services, batchName, prefill, initialBatches, onControl}: AppProps): React.JSX.Element {
  const {columns: width, rows} = useTerminalSize();
  const shell = useAppShell();
  const display = useDisplay();
  const height = Math.max(8, rows - 1);
  const listedFirst = batchName || prefill?.startWithSetup ? undefined : initialBatches;
  const [route, setRoute] = useState<Route>(() =>
    !listedFirst ? {kind: 'loading', text: 'Looking for batches'} : listedFirst.length === 0 ? {kind: 'setup'} : {kind: 'picker', batches: listedFirst},
  );
  const [existing, setExisting] = useState<string[]>(() => (listedFirst ?? []).map((batch) => batch.name));
  const [question, setQuestion] = useState<Question | undefined>();
  const [pickerStatus, setPickerStatus] = useState<StatusMessage | undefined>();
  const [help, setHelp] = useState(false);
  const [secretDraft, setSecretDraft] = useState('');

  const showPicker = useCallback(async () => {
    try {
      const batches = await services.listBatches(stateDir);
      setExisting(batches.map((batch) => batch.name));
      if (batches.length === 0) setRoute({kind: 'setup'});
      else setRoute({kind: 'picker', batches});
    } catch (error) {
      setRoute({kind: 'failed', text: `Cannot list the batches in ${stateDir}: ${describe(error)}`, back: 'quit'});
    }
  }, [services, stateDir]);

  const open = useCallback(
    async (name: string, resume: boolean, typed: ResolvedSecrets = {}) => {
      setRoute({kind: 'loading', text: `Opening batch ${name}`});
      try {
        const definition = await services.readDefinition(stateDir, name);
        const secrets: ResolvedSecrets = {...typed};
        const pending: NeededSecret[] = [];
        for (const needed of neededSecrets(definition)) {
          if (secrets[needed.key] !== undefined) continue;
          if (needed.source.from === 'prompt') pending.push(needed);
          else secrets[needed.key] = await services.readSecret(needed.source, needed.what);
        }
        if (pending.length > 0) {
          setRoute({kind: 'secret', name, resume, pending, typed: secrets});
          return;
        }
        const control = await services.openBatch({stateDir, name, secrets});
        onControl?.(control);
        await control.start();
        const resumable = (control.getSnapshot().counts.Stopped ?? 0) + (control.getSnapshot().counts.Failed ?? 0);
        if (resume) control.resume();
        const opened = resume && resumable > 0 ? `Opened batch ${name}; resumed ${resumable} stopped or failed mailboxes.` : `Opened batch ${name}.`;
        const exposed = control.exposedSecretFiles ?? [];
        setRoute({
          kind: 'batch',
          control,
          // One status line: what to run comes first so it survives a narrow terminal; the whole
          // warning is in the batch's log file.
          status:
            exposed.length > 0
              ? {text: `chmod 600 ${exposed.map((file) => file.path).join(' ')}: other users can read these files with passwords. ${opened}`, tone: 'warn'}
              : {text: opened, tone: 'ok'},
        });
      } catch (error) {
        setRoute({kind: 'failed', text: `Cannot open batch ${name}: ${describe(error)}`, back: 'picker'});
      }
    },
    [services, stateDir, onControl],
  );

  useEffect(() => {
    if (batchName) void open(batchName, false);
    else if (prefill?.startWithSetup) setRoute({kind: 'setup'});
    else if (!listedFirst) void showPicker();
    // Only on mount: later moves between routes are driven by keys.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);

  const onConfirm = useCallback(
    (action: ActionId) => {
      if (!question) return;
      if (action === 'confirmYes') {
        setQuestion(undefined);
        question.onYes();
      } else if (action === 'confirmNo' || action === 'interrupt') setQuestion(undefined);
    },
    [question],
  );
  useKeys('confirm', onConfirm, {isActive: question !== undefined});

  const onMessage = useCallback(
    (action: ActionId) => {
      if (route.kind !== 'failed') return;
      if (action === 'interrupt' || action === 'quit') shell.exit(1);
      else if (action === 'dismiss' && route.back !== 'quit') {
        if (route.back === 'setup') setRoute({kind: 'setup'});
        else void showPicker();
      }
    },
    [route, shell, showPicker],
  );
  useKeys('message', onMessage, {isActive: route.kind === 'failed'});

  const onLoadingKey = useCallback(
    (action: ActionId) => {
      if (action === 'interrupt') shell.exit(130);
    },
    [shell],
  );
  useKeys('message', onLoadingKey, {isActive: route.kind === 'loading'});
  useTypeAhead(route.kind === 'loading', route.kind !== 'failed' && route.kind !== 'secret');

  let screen: React.JSX.Element;
  switch (route.kind) {
    case 'loading':
      screen = (
        <Box flexDirection="column" height={height}>
          <Text wrap="truncate">{fit(`${route.text}${display.glyphs.ellipsis}`, width, display.glyphs.ellipsis)}</Text>
        </Box>
      );
      break;
    case 'failed':
      screen = (
        <Box flexDirection="column" height={height}>
          <Text wrap="wrap" color={tint(display, 'red')} bold>
            {route.text}
          </Text>
          <Box flexGrow={1} />
          <Footer screen="message" width={width} status={{text: route.back === 'quit' ? 'q quits.' : 'Enter goes back; q quits.', tone: 'info'}} />
        </Box>
      );
      break;
    case 'picker':
      screen = help ? (
        <HelpOverlay width={width} height={height} firstSection="Batch list" isActive={!question} onClose={() => setHelp(false)} onInterrupt={() => shell.exit(0)} />
      ) : (
        <Box flexDirection="column" height={height}>
          <BatchPicker
            batches={route.batches}
            width={width}
            height={question ? height - 2 : height}
            status={pickerStatus}
            isActive={!question}
            onOpen={(name, resume) => void open(name, resume)}
            onNew={() => setRoute({kind: 'setup'})}
            onRemove={(name) =>
              setQuestion({
                text: `Remove batch ${name}? Its progress is forgotten; no mail is touched.`,
                onYes: () => {
                  services.removeBatch(stateDir, name).then(
                    () => {
                      setPickerStatus({text: `Removed batch ${name}.`, tone: 'ok'});
                      void showPicker();
                    },
                    (error: unknown) => setPickerStatus({text: describe(error), tone: 'error'}),
                  );
                },
              })
            }
            onHelp={() => setHelp(true)}
            onQuit={() => shell.exit(0)}
          />
          {question ? <ConfirmDialog question={question} width={width} /> : null}
        </Box>
      );
      break;
    case 'setup':
      screen = (
        <SetupFlow
          stateDir={stateDir}
          services={services}
          prefill={prefill}
          existingNames={existing}
          width={width}
          height={height}
          isActive
          onCreated={(name, secrets) => void open(name, false, secrets)}
          onCancel={() => (existing.length > 0 ? void showPicker() : shell.exit(0))}
          onInterrupt={() => shell.exit(130)}
        />
      );
      break;
    case 'secret': {
      const needed = route.pending[0]!;
      screen = (
        <FormPanel
          key={needed.key}
          title={`Batch ${route.name} needs the ${needed.what}`}
          fields={[
            {kind: 'text', id: 'secret', label: 'Password', mask: true, help: 'Kept in memory while the batch runs; never written to disk.'},
            {kind: 'button', id: 'open', label: 'Open the batch'},
            {kind: 'button', id: 'back', label: 'Back'},
          ]}
          values={{secret: secretDraft}}
          notes={['Admin passwords typed in mailferry are never stored, so a reopened batch asks for them again.']}
          width={width}
          height={height}
          isActive
          onChange={(_id, next) => setSecretDraft(next)}
          onButton={(id) => {
            if (id === 'back') {
              setSecretDraft('');
              void showPicker();
              return;
            }
            if (!secretDraft) return;
            registerSecret(secretDraft);
            setSecretDraft('');
            void open(route.name, route.resume, {...route.typed, [needed.key]: secretDraft});
          }}
          onBack={() => {
            setSecretDraft('');
            void showPicker();
          }}
          onInterrupt={() => shell.exit(130)}
        />
      );
      break;
    }
    case 'batch':
      screen = <BatchScreen control={route.control} initialStatus={route.status} />;
      break;
  }
  return (
    <Box flexDirection="column" width={width} height={height}>
      {screen}
    </Box>
  );
}
