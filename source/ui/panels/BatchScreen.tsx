// The screen the admin lives in: batch header, progress grid, footer; and on top of it the
// mailbox detail, the error log, the help and yes/no questions. It only renders snapshots and
// sends commands to the BatchControl; there is no migration logic here.

import React, {useCallback, useEffect, useMemo, useRef, useState} from 'react';
import {Box, Text} from 'ink';
import type {BatchControl} from '../../engine/batch-control.js';
import {ACTIVE_STATUSES} from '../../engine/batch-model.js';
import type {BatchSnapshot} from '../../engine/scheduler/batch-snapshot.js';
import {formatError} from '../../imap/imap-error.js';
import {useAppShell} from '../app-shell.js';
import {useDisplay} from '../display-options.js';
import {fit, singleLine} from '../format/text-fit.js';
import type {ActionId} from '../keymap.js';
import {useTerminalSize} from '../terminal-size.js';
import {useBatchSnapshot} from '../use-batch-snapshot.js';
import {useKeys} from '../use-keys.js';
import {useSyncedState} from '../use-synced-state.js';
import {pushEntry, type LogEntry} from '../view-state/error-log.js';
import {gridColumns} from '../view-state/grid-columns.js';
import {
  INITIAL_GRID_VIEW,
  SORT_LABELS,
  actionTargets,
  gridReducer,
  gridWindow,
  selectedIndex,
  type GridAction,
  type GridView,
} from '../view-state/grid-view.js';
import type {MailboxSnapshot} from '../../engine/scheduler/batch-snapshot.js';
import {BatchHeader} from './BatchHeader.js';
import {ConfirmDialog, type Question} from './ConfirmDialog.js';
import {Footer, type StatusMessage} from './Footer.js';
import {HelpOverlay} from './HelpOverlay.js';
import {LogView} from './LogView.js';
import {MailboxDetail} from './MailboxDetail.js';
import {ProgressGrid} from './ProgressGrid.js';
import {TextField} from './TextField.js';
import {markedListActionFor} from '../view-state/marked-list.js';
import {RowArranger, type Arrangement, type ArrangeView} from '../view-state/row-arrangement.js';
import {verifyOutcome} from '../view-state/verification-lines.js';
import {AddUsersPanel} from './AddUsersPanel.js';
import {removalQuestion} from './remove-mailboxes-question.js';

type Overlay = {kind: 'none'} | {kind: 'detail'; emailAddress: string} | {kind: 'log'} | {kind: 'add'} | {kind: 'help'; from: string; back: Overlay};

const STATUS_FADE_MS = 8000;
/** "last synced 3m ago" keeps counting while an idle batch publishes no snapshots. */
const CLOCK_TICK_MS = 15_000;

function useClock(): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), CLOCK_TICK_MS);
    timer.unref?.();
    return () => clearInterval(timer);
  }, []);
  return now;
}

/** Header (3) + column titles (1) + footer (2) around the rows. */
const CHROME_LINES = 6;

export function runningCount(snapshot: BatchSnapshot): number {
  let count = 0;
  for (const status of ACTIVE_STATUSES) count += snapshot.counts[status] ?? 0;
  return count;
}

function plural(count: number, word: string): string {
  return `${count} ${word}${count === 1 ? '' : 'es'}`;
}

function describeTargets(targets: readonly string[]): string {
  return targets.length === 1 ? (targets[0] ?? '') : plural(targets.length, 'mailbox');
}

/** Filter and sort once per snapshot and view, shared by the render and the key handlers. */
function useArrangement(): (mailboxes: readonly MailboxSnapshot[], view: ArrangeView) => Arrangement {
  const [arranger] = useState(() => new RowArranger());
  return useCallback((mailboxes, view) => arranger.arrange(mailboxes, view), [arranger]);
}

export interface BatchScreenProps {
  control: BatchControl;
  /** Shown once in the status line when the screen opens (e.g. "resumed 3 mailboxes"). */
  initialStatus?: StatusMessage;
}

export function BatchScreen({control, initialStatus}: BatchScreenProps): React.JSX.Element {
  const snapshot = useBatchSnapshot(control);
  const {columns: width, rows} = useTerminalSize();
  const display = useDisplay();
  const shell = useAppShell();
  // One row less than the terminal: Ink redraws everything when a frame is as tall as the screen.
  const height = Math.max(8, rows - 1);
  const pageSize = Math.max(1, height - CHROME_LINES);

  const clock = useClock();
  const [view, setView, viewRef] = useSyncedState<GridView>(INITIAL_GRID_VIEW);
  const [overlay, setOverlay] = useState<Overlay>({kind: 'none'});
  const [question, setQuestion] = useState<Question | undefined>();
  const [filterDraft, setFilterDraft, filterDraftRef] = useSyncedState<string | undefined>(undefined);
  const arrange = useArrangement();
  const [status, setStatus] = useState<StatusMessage | undefined>(initialStatus);
  const [closing, setClosing] = useState<string | undefined>();
  const ring = useRef<LogEntry[]>([]);

  // Outcomes ("Stopped 3 mailboxes.") fade after a while so the line shows the selection again;
  // errors stay until the next key.
  useEffect(() => {
    if (!status || status.tone === 'error' || status.tone === 'warn') return undefined;
    const timer = setTimeout(() => setStatus((current) => (current === status ? undefined : current)), STATUS_FADE_MS);
    return () => clearTimeout(timer);
  }, [status]);

  useEffect(() => {
    const offError = control.on('error', ({emailAddress, error}) => {
      pushEntry(ring.current, {emailAddress, error});
    });
    const offRetry = control.on('retry', ({emailAddress, error, attempt}) => {
      pushEntry(ring.current, {emailAddress, error, attempt});
    });
    return () => {
      offError();
      offRetry();
    };
  }, [control]);

  const filter = filterDraft ?? view.filter;
  const {rows: arranged, order} = arrange(snapshot.mailboxes, {filter, sortKey: view.sortKey, descending: view.descending});
  const window = gridWindow(view, order, pageSize);
  const columns = useMemo(() => gridColumns(width), [width]);
  const selected = arranged[window.cursor];

  // Key handlers read the newest view and snapshot, not the ones of the last render.
  const pageSizeRef = useRef(pageSize);
  pageSizeRef.current = pageSize;
  const currentRows = useCallback(() => arrange(control.getSnapshot().mailboxes, viewRef.current), [arrange, control, viewRef]);
  const dispatch = useCallback(
    (action: GridAction) => setView((current) => gridReducer(current, action, {order: currentRows().order, pageSize: pageSizeRef.current})),
    [setView, currentRows],
  );

  const run = useCallback(
    (label: string, done: string | (() => StatusMessage), command: () => Promise<void> | void) => {
      setStatus({text: `${label}${display.glyphs.ellipsis}`, tone: 'info'});
      Promise.resolve()
        .then(command)
        .then(
          () => setStatus(typeof done === 'string' ? {text: done, tone: 'ok'} : done()),
          (error: unknown) => setStatus({text: `${label} failed: ${error instanceof Error ? ('kind' in error ? formatError(error as never) : error.message) : String(error)}`, tone: 'error'}),
        );
    },
    [display.glyphs.ellipsis],
  );

  const sendCommand = useCallback(
    (action: 'stop' | 'resume' | 'syncNow' | 'verify', targets: string[]) => {
      if (targets.length === 0) {
        setStatus({text: 'No mailbox selected.', tone: 'warn'});
        return;
      }
      const what = describeTargets(targets);
      if (action === 'stop') run(`Stopping ${what}`, `Stopped ${what}.`, () => control.stop(targets));
      else if (action === 'resume') run(`Resuming ${what}`, `Resumed ${what}.`, () => control.resume(targets));
      else if (action === 'verify') run(`Verifying ${what}`, () => verifyOutcome(control, targets), () => control.verify(targets));
      else run(`Starting a sync of ${what}`, `Sync requested for ${what}.`, () => control.syncNow(targets));
    },
    [control, run],
  );

  const quitNow = useCallback(() => {
    const running = runningCount(control.getSnapshot());
    setQuestion(undefined);
    setClosing(running > 0 ? `Stopping ${plural(running, 'mailbox')} and saving state${display.glyphs.ellipsis}` : `Saving state${display.glyphs.ellipsis}`);
    control.close().then(
      () => shell.exit(0),
      () => shell.exit(1),
    );
  }, [control, shell, display.glyphs.ellipsis]);

  const askQuit = useCallback(() => {
    const running = runningCount(control.getSnapshot());
    if (running === 0) {
      quitNow();
      return;
    }
    setQuestion({text: `${plural(running, 'mailbox')} ${running === 1 ? 'is' : 'are'} running; they will stop and resume next time. Quit?`, onYes: quitNow});
  }, [control, quitNow]);

  const openHelp = useCallback((from: string, back: Overlay) => setOverlay({kind: 'help', from, back}), []);

  const onGridAction = useCallback(
    (action: ActionId) => {
      setStatus(undefined);
      const listAction = markedListActionFor(action);
      if (listAction) {
        dispatch(listAction);
        return;
      }
      switch (action) {
        case 'clear':
          dispatch({type: 'clear'});
          return;
        case 'sort':
          dispatch({type: 'cycleSort'});
          return;
        case 'reverseSort':
          dispatch({type: 'reverseSort'});
          return;
        case 'filter':
          setFilterDraft('');
          return;
        case 'openDetail': {
          const {rows} = currentRows();
          const row = rows[selectedIndex(viewRef.current, rows.map((candidate) => candidate.emailAddress))];
          if (row) setOverlay({kind: 'detail', emailAddress: row.emailAddress});
          return;
        }
        case 'openLog':
          setOverlay({kind: 'log'});
          return;
        case 'help':
          openHelp('Progress grid', {kind: 'none'});
          return;
        case 'stop':
        case 'resume':
        case 'syncNow':
        case 'verify':
          sendCommand(action, actionTargets(viewRef.current, currentRows().order));
          return;
        case 'stopAll': {
          const count = control.getSnapshot().mailboxes.length;
          setQuestion({text: `Stop all ${plural(count, 'mailbox')}? They can be resumed later.`, onYes: () => run('Stopping all mailboxes', 'All mailboxes stopped.', () => control.stop())});
          return;
        }
        case 'resumeAll': {
          const {counts} = control.getSnapshot();
          const count = (counts.Stopped ?? 0) + (counts.Failed ?? 0);
          setQuestion({text: `Resume all ${plural(count, 'stopped or failed mailbox')}?`, onYes: () => run('Resuming all mailboxes', 'All stopped and failed mailboxes queued again.', () => control.resume())});
          return;
        }
        case 'complete':
          setQuestion({
            text: `Complete batch ${control.getSnapshot().name}? Every mailbox gets one last sync, then syncing stops for good.`,
            onYes: () => run('Completing the batch', 'Batch completed.', () => control.complete()),
          });
          return;
        case 'addUsers':
          setOverlay({kind: 'add'});
          return;
        case 'removeFromBatch': {
          const asked = removalQuestion(control, actionTargets(viewRef.current, currentRows().order), run, () => dispatch({type: 'unmarkAll'}));
          if ('onYes' in asked) setQuestion(asked);
          else setStatus(asked);
          return;
        }
        case 'quit':
        case 'interrupt':
          askQuit();
          return;
        default:
          return;
      }
    },
    [dispatch, viewRef, currentRows, setFilterDraft, sendCommand, run, control, askQuit, openHelp],
  );

  const onFilterAction = useCallback(
    (action: ActionId) => {
      if (action === 'applyText') {
        dispatch({type: 'setFilter', filter: filterDraftRef.current ?? ''});
        setFilterDraft(undefined);
      } else if (action === 'cancelText') {
        setFilterDraft(undefined);
      } else if (action === 'interrupt') {
        setFilterDraft(undefined);
        askQuit();
      }
    },
    [dispatch, filterDraftRef, setFilterDraft, askQuit],
  );

  const onConfirmAction = useCallback(
    (action: ActionId) => {
      if (!question) return;
      if (action === 'confirmYes') {
        setQuestion(undefined);
        question.onYes();
      } else if (action === 'confirmNo') {
        setQuestion(undefined);
        question.onNo?.();
      } else if (action === 'interrupt') {
        // A second Ctrl-C means it: quit without asking again (state is still saved).
        quitNow();
      }
    },
    [question, quitNow],
  );

  const interactive = closing === undefined;
  const onGrid = interactive && overlay.kind === 'none' && !question;
  useKeys('grid', onGridAction, {isActive: onGrid && filterDraft === undefined});
  useKeys('grid-filter', onFilterAction, {isActive: onGrid && filterDraft !== undefined});
  useKeys('confirm', onConfirmAction, {isActive: interactive && question !== undefined});

  const back = useCallback(() => setOverlay({kind: 'none'}), []);

  if (closing !== undefined) {
    return (
      <Box flexDirection="column" height={height} width={width}>
        <Text wrap="truncate">{fit(closing, width, display.glyphs.ellipsis)}</Text>
      </Box>
    );
  }

  const overlayActive = interactive && !question;
  let body: React.JSX.Element;
  if (overlay.kind === 'detail') {
    body = (
      <MailboxDetail
        control={control}
        snapshot={snapshot}
        emailAddress={overlay.emailAddress}
        width={width}
        height={question ? height - 2 : height}
        status={status}
        isActive={overlayActive}
        onBack={back}
        onCommand={sendCommand}
        onHelp={() => openHelp('Mailbox detail', overlay)}
        onInterrupt={askQuit}
      />
    );
  } else if (overlay.kind === 'log') {
    body = (
      <LogView
        snapshot={snapshot}
        ring={ring.current}
        width={width}
        height={question ? height - 2 : height}
        isActive={overlayActive}
        onBack={back}
        onOpenDetail={(emailAddress) => setOverlay({kind: 'detail', emailAddress})}
        onHelp={() => openHelp('Error log', overlay)}
        onInterrupt={askQuit}
      />
    );
  } else if (overlay.kind === 'add') {
    body = (
      <AddUsersPanel
        control={control}
        width={width}
        height={question ? height - 2 : height}
        isActive={overlayActive}
        onDone={(outcome) => {
          setOverlay({kind: 'none'});
          setStatus(outcome);
        }}
        onBack={back}
        onInterrupt={askQuit}
      />
    );
  } else if (overlay.kind === 'help') {
    body = (
      <HelpOverlay
        width={width}
        height={question ? height - 2 : height}
        firstSection={overlay.from}
        isActive={overlayActive}
        onClose={() => setOverlay(overlay.back)}
        onInterrupt={askQuit}
      />
    );
  } else {
    body = (
      <Box flexDirection="column" height={height - 2} flexShrink={0}>
        <BatchHeader snapshot={snapshot} width={width} />
        <ProgressGrid
          rows={arranged}
          window={window}
          columns={columns}
          marks={view.marks}
          height={pageSize}
          at={new Date(Math.max(Date.parse(snapshot.at) || 0, clock)).toISOString()}
          emptyText={snapshot.mailboxes.length === 0 ? 'This batch has no mailboxes.' : `No mailbox matches "${filter}" (Esc or x clears the filter).`}
        />
      </Box>
    );
  }

  const statusLine = gridStatusLine(view, filterDraft, status, selected?.lastError ? `${selected.emailAddress}: ${singleLine(selected.lastError.message)}` : undefined, arranged.length, snapshot.mailboxes.length);
  return (
    <Box flexDirection="column" height={height} width={width}>
      {body}
      {question ? <ConfirmDialog question={question} width={width} /> : null}
      {!question && overlay.kind === 'none' ? (
        filterDraft !== undefined ? (
          <Box flexDirection="column" height={2} flexShrink={0}>
            <Box>
              <Text>/</Text>
              <TextField value={filterDraft} onChange={setFilterDraft} focus={onGrid} placeholder="email or status" />
            </Box>
            <Text wrap="truncate" dimColor={display.color}>
              {fit('Enter apply  Esc/Ctrl-G cancel  (matches email and status)', width, display.glyphs.ellipsis)}
            </Text>
          </Box>
        ) : (
          <Footer screen="grid" width={width} status={statusLine} />
        )
      ) : null}
    </Box>
  );
}

/** What the line above the key hints says: the last command's outcome, else filter/sort/marks, else the selected row's error. */
export function gridStatusLine(
  view: GridView,
  filterDraft: string | undefined,
  status: StatusMessage | undefined,
  selectedError: string | undefined,
  shown: number,
  total: number,
): StatusMessage | undefined {
  if (status) return status;
  const parts: string[] = [];
  if (view.filter && filterDraft === undefined) parts.push(`filter "${view.filter}": ${shown} of ${total}`);
  if (view.sortKey !== 'csv' || view.descending) parts.push(`sort ${SORT_LABELS[view.sortKey]}${view.descending ? ' desc' : ''}`);
  if (view.marks.size > 0) parts.push(`${view.marks.size} marked`);
  if (selectedError) return {text: parts.length > 0 ? `${parts.join('  ')}  |  ${selectedError}` : selectedError, tone: 'error'};
  return parts.length > 0 ? {text: parts.join('  '), tone: 'info'} : undefined;
}
