// The users of the batch: load the migration CSV by path (or add users by hand), see every
// problem with its line number, mark users and test their source and target logins, a few at a
// time, with results filling in per row. The table is windowed, so 10,000 rows scroll freely.

import React, {useCallback, useEffect, useMemo, useRef, useState} from 'react';
import {Box, Text} from 'ink';
import {resolve} from 'node:path';
import type {BatchDefinition} from '../../engine/batch-model.js';
import type {CsvLoadResult, MigrationRow} from '../../engine/csv/migration-csv.js';
import type {ResolvedSecrets} from '../../engine/credentials/row-credentials.js';
import {csvOptionsForSource} from '../../engine/credentials/oauth-identity.js';
import {formatError, MigrationError} from '../../imap/imap-error.js';
import {registerSecret} from '../../log/secret-redaction.js';
import {appendUser} from '../csv-append.js';
import {tint, useDisplay} from '../display-options.js';
import {fit, singleLine} from '../format/text-fit.js';
import type {ActionId} from '../keymap.js';
import {useKeys} from '../use-keys.js';
import {useSyncedState} from '../use-synced-state.js';
import type {LoginCheckResult, LoginCheckSide, UiServices} from '../ui-services.js';
import {isMovement, scrollBy} from '../view-state/list-window.js';
import {filterUsers, INITIAL_USERS_VIEW, usersReducer, usersTargets, usersWindow, type UsersAction, type UsersView} from '../view-state/users-view.js';
import {Footer, type StatusMessage} from './Footer.js';
import {FormPanel} from './FormPanel.js';
import {TextField} from './TextField.js';
import {markedListActionFor} from '../view-state/marked-list.js';

/** Login tests run a few at a time: enough to be quick, few enough not to trip server rate limits. */
export const LOGIN_CHECK_PARALLELISM = 4;

type LoginState = 'queued' | 'running' | LoginCheckResult;

export interface LoadedCsv {
  readonly path: string;
  readonly result: CsvLoadResult;
}

export interface UsersPanelProps {
  services: Pick<UiServices, 'loadMigrationCsv' | 'checkLogins'>;
  /** Endpoints and credential modes as set up so far, for the login tests. */
  definition: Pick<BatchDefinition, 'source' | 'target' | 'sourceCredentials' | 'targetCredentials'>;
  secrets: ResolvedSecrets;
  loaded: LoadedCsv | undefined;
  initialPath?: string | undefined;
  step: string;
  width: number;
  height: number;
  isActive: boolean;
  onLoaded(loaded: LoadedCsv): void;
  onContinue(): void;
  onBack(): void;
  onHelp(): void;
  onInterrupt(): void;
}

function sideText(side: LoginCheckSide, glyphs: {ok: string; failed: string}): string {
  return side.ok ? `${glyphs.ok} ${side.ms}ms` : `${glyphs.failed} ${singleLine(side.error ?? 'failed')}`;
}

type Mode = 'table' | 'path' | 'filter' | 'problems' | 'add';

const ADD_FIELDS_BASE = [
  {kind: 'text' as const, id: 'emailAddress', label: 'EmailAddress', help: 'The target mailbox, e.g. terry.adams@contoso.edu.'},
  {kind: 'text' as const, id: 'userName', label: 'UserName', help: 'The source login, exactly as the source server expects it (admin forms like user*admin work).'},
  {kind: 'text' as const, id: 'password', label: 'Password', mask: true, help: 'The source password; written to the CSV file (mode 600), never to the state file.'},
];

export function UsersPanel(props: UsersPanelProps): React.JSX.Element {
  const {services, loaded, width, height} = props;
  const display = useDisplay();
  const {glyphs} = display;
  const [mode, setMode] = useState<Mode>(loaded ? 'table' : 'path');
  const [pathDraft, setPathDraft, pathDraftRef] = useSyncedState(loaded?.path ?? props.initialPath ?? '');
  const [filterDraft, setFilterDraft, filterDraftRef] = useSyncedState('');
  const [status, setStatus] = useState<StatusMessage | undefined>();
  const [view, setView, viewRef] = useSyncedState<UsersView>(INITIAL_USERS_VIEW);
  const [logins, setLogins] = useState<ReadonlyMap<number, LoginState>>(new Map());
  const [problemsTop, setProblemsTop] = useState(0);
  const [addValues, setAddValues] = useState<Record<string, string>>({});
  const [addProblems, setAddProblems] = useState<Record<string, string>>({});
  const running = useRef(0);
  /** Lines of the current "test logins" round, for the summary when it is done. */
  const round = useRef<number[]>([]);

  const rows = loaded?.result.rows ?? [];
  const problems = loaded?.result.problems ?? [];
  const shown = useMemo(() => filterUsers(rows, mode === 'filter' ? filterDraft : view.filter), [rows, mode, filterDraft, view.filter]);
  const order = useMemo(() => shown.map((row) => row.line), [shown]);
  const rowsByLine = useMemo(() => new Map(rows.map((row) => [row.line, row])), [rows]);

  const problemLines = Math.min(problems.length, 3);
  // Title, summary, problems (+1 "more" line), column titles, status line, footer (2).
  const tableHeight = Math.max(1, height - 6 - problemLines - (problems.length > problemLines ? 1 : 0));
  const window = usersWindow(view, order, tableHeight);
  // Key handlers work on the newest rows and view, which may be ahead of the last render.
  const rowsRef = useRef(rows);
  rowsRef.current = rows;
  const tableHeightRef = useRef(tableHeight);
  tableHeightRef.current = tableHeight;
  const currentOrder = useCallback(() => filterUsers(rowsRef.current, viewRef.current.filter).map((row) => row.line), [viewRef]);
  const dispatch = useCallback(
    (action: UsersAction) => setView((current) => usersReducer(current, action, {order: currentOrder(), pageSize: tableHeightRef.current})),
    [setView, currentOrder],
  );

  const load = useCallback(
    async (path: string) => {
      const absolute = resolve(path.trim());
      setStatus({text: `Reading ${absolute}${glyphs.ellipsis}`, tone: 'info'});
      try {
        const result = await services.loadMigrationCsv(absolute, csvOptionsForSource(props.definition.sourceCredentials));
        props.onLoaded({path: absolute, result});
        dispatch({type: 'reset'});
        setLogins(new Map());
        setMode('table');
        const errors = result.problems.filter((problem) => problem.severity === 'error').length;
        setStatus(
          result.usable
            ? {text: `Loaded ${result.rows.length} users from ${absolute}.`, tone: 'ok'}
            : {text: `${absolute}: ${errors} error${errors === 1 ? '' : 's'}; fix the file and load it again (p).`, tone: 'error'},
        );
      } catch (error) {
        setStatus({text: error instanceof MigrationError ? formatError(error) : `Cannot read ${absolute}: ${String(error)}`, tone: 'error'});
      }
    },
    [services, props, dispatch, glyphs.ellipsis],
  );

  // The login test pool: picks queued rows while fewer than LOGIN_CHECK_PARALLELISM run.
  useEffect(() => {
    if (round.current.length > 0 && round.current.every((line) => typeof logins.get(line) === 'object')) {
      const results = round.current.map((line) => logins.get(line) as LoginCheckResult);
      const failed = results.filter((result) => !result.source.ok || !result.target.ok).length;
      setStatus({text: `Tested ${results.length} login${results.length === 1 ? '' : 's'}: ${failed === 0 ? 'all passed' : `${failed} failed`}.`, tone: failed === 0 ? 'ok' : 'error'});
      round.current = [];
    }
    for (const [line, state] of logins) {
      if (running.current >= LOGIN_CHECK_PARALLELISM) break;
      if (state !== 'queued') continue;
      const row = rowsByLine.get(line);
      if (!row) continue;
      running.current += 1;
      setLogins((current) => new Map(current).set(line, 'running'));
      services.checkLogins(props.definition, row, props.secrets).then(
        (result) => {
          running.current -= 1;
          setLogins((current) => new Map(current).set(line, result));
        },
        (error: unknown) => {
          running.current -= 1;
          const text = error instanceof MigrationError ? formatError(error) : String(error);
          setLogins((current) => new Map(current).set(line, {emailAddress: row.emailAddress, source: {ok: false, ms: 0, error: text}, target: {ok: false, ms: 0, error: text}}));
        },
      );
    }
  }, [logins, rowsByLine, services, props.definition, props.secrets]);

  const onTableAction = useCallback(
    (action: ActionId) => {
      if (mode === 'problems') {
        if (action === 'showProblems' || action === 'usersBack') setMode('table');
        else if (isMovement(action))
          setProblemsTop((current) => scrollBy(current, action, problems.length, Math.max(1, height - 5)));
        else if (action === 'help') props.onHelp();
        else if (action === 'interrupt') props.onInterrupt();
        return;
      }
      setStatus(undefined);
      const listAction = markedListActionFor(action);
      if (listAction) {
        dispatch(listAction);
        return;
      }
      switch (action) {
        case 'filter':
          setFilterDraft('');
          setMode('filter');
          return;
        case 'editCsvPath':
          setMode('path');
          return;
        case 'showProblems':
          if (problems.length > 0) setMode('problems');
          return;
        case 'addUser':
          setAddValues({});
          setAddProblems({});
          setMode('add');
          return;
        case 'testLogins': {
          const targets = usersTargets(viewRef.current, currentOrder());
          if (targets.length === 0) return;
          round.current = targets;
          setLogins((current) => {
            const next = new Map(current);
            for (const line of targets) if (next.get(line) !== 'running') next.set(line, 'queued');
            return next;
          });
          setStatus({text: `Testing the logins of ${targets.length} user${targets.length === 1 ? '' : 's'}, ${LOGIN_CHECK_PARALLELISM} at a time${glyphs.ellipsis}`, tone: 'info'});
          return;
        }
        case 'usersContinue':
          if (!loaded) setStatus({text: 'Load a migration CSV first (p).', tone: 'warn'});
          else if (!loaded.result.usable) setStatus({text: 'The CSV has errors: fix them (P lists them all) and load it again (p).', tone: 'error'});
          else props.onContinue();
          return;
        case 'usersBack':
          props.onBack();
          return;
        case 'help':
          props.onHelp();
          return;
        case 'interrupt':
          props.onInterrupt();
          return;
        default:
          return;
      }
    },
    [mode, problems.length, height, props, dispatch, viewRef, currentOrder, loaded, glyphs.ellipsis],
  );

  const onTextAction = useCallback(
    (action: ActionId) => {
      if (action === 'interrupt') {
        props.onInterrupt();
        return;
      }
      if (mode === 'path') {
        if (action === 'applyText' && pathDraftRef.current.trim()) void load(pathDraftRef.current);
        // Without a file the empty table still offers A (add by hand) and Esc (back).
        else if (action === 'cancelText') setMode('table');
      } else if (mode === 'filter') {
        if (action === 'applyText') dispatch({type: 'setFilter', filter: filterDraftRef.current});
        if (action === 'applyText' || action === 'cancelText') setMode('table');
      }
    },
    [mode, pathDraftRef, load, loaded, props, dispatch, filterDraftRef],
  );

  useKeys('users', onTableAction, {isActive: props.isActive && (mode === 'table' || mode === 'problems')});
  useKeys('users-text', onTextAction, {isActive: props.isActive && (mode === 'path' || mode === 'filter')});

  const targetIsCsv = props.definition.targetCredentials.kind === 'csv';
  // With OAuth2 on the source there is no source password to type.
  const sourcePasswords = !csvOptionsForSource(props.definition.sourceCredentials).sourcePasswordsOptional;
  const addFields = [
    ...ADD_FIELDS_BASE.filter((field) => sourcePasswords || field.id !== 'password'),
    ...(targetIsCsv
      ? [
          {kind: 'text' as const, id: 'targetUserName', label: 'TargetUserName', help: 'The target login of this user.'},
          {kind: 'text' as const, id: 'targetPassword', label: 'TargetPassword', mask: true, help: 'The target password; written to the CSV file only.'},
        ]
      : []),
    {kind: 'button' as const, id: 'add', label: 'Add to the CSV', help: 'Appends the user to the CSV file and loads it again.'},
    {kind: 'button' as const, id: 'back', label: 'Back', help: 'Back to the users.'},
  ];

  const submitAdd = useCallback(async () => {
    const found: Record<string, string> = {};
    for (const id of ['emailAddress', 'userName', ...(sourcePasswords ? ['password'] : []), ...(targetIsCsv ? ['targetUserName', 'targetPassword'] : [])]) {
      if (!(addValues[id] ?? '').trim()) found[id] = 'Required.';
    }
    if (addValues['emailAddress'] && !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(addValues['emailAddress'].trim())) found['emailAddress'] = 'Not an email address (name@domain.tld).';
    if (loaded && targetIsCsv && !loaded.result.columns.some((column) => column.toLowerCase() === 'targetusername'))
      found['targetUserName'] = 'The CSV has no TargetUserName/TargetPassword columns; add them in an editor first.';
    setAddProblems(found);
    if (Object.keys(found).length > 0) return;
    const path = loaded?.path ?? resolve(pathDraft.trim() || 'users.csv');
    registerSecret(addValues['password']);
    registerSecret(addValues['targetPassword']);
    try {
      await appendUser(
        path,
        {
          emailAddress: (addValues['emailAddress'] ?? '').trim(),
          userName: (addValues['userName'] ?? '').trim(),
          password: addValues['password'] ?? '',
          ...(targetIsCsv ? {targetUserName: (addValues['targetUserName'] ?? '').trim(), targetPassword: addValues['targetPassword'] ?? ''} : {}),
        },
        loaded ? {columns: loaded.result.columns, delimiter: loaded.result.delimiter} : undefined,
      );
      await load(path);
    } catch (error) {
      setAddProblems({emailAddress: `Cannot write ${path}: ${error instanceof Error ? error.message : String(error)}`});
    }
  }, [addValues, loaded, pathDraft, targetIsCsv, sourcePasswords, load]);

  if (mode === 'add') {
    return (
      <FormPanel
        title={`${props.step}  Add a user by hand (to ${loaded?.path ?? resolve(pathDraft.trim() || 'users.csv')})`}
        fields={addFields}
        values={addValues}
        problems={addProblems}
        notes={['The CSV stays the one place passwords live: mailferry reads them again on every start.']}
        width={width}
        height={height}
        isActive={props.isActive}
        onChange={(id, value) => setAddValues((current) => ({...current, [id]: value}))}
        onButton={(id) => (id === 'add' ? void submitAdd() : setMode('table'))}
        onBack={() => setMode('table')}
        onInterrupt={props.onInterrupt}
      />
    );
  }

  const errors = problems.filter((problem) => problem.severity === 'error').length;
  const warnings = problems.length - errors;
  const summary = loaded
    ? `${rows.length} user${rows.length === 1 ? '' : 's'}, ${errors} error${errors === 1 ? '' : 's'}, ${warnings} warning${warnings === 1 ? '' : 's'}${loaded.result.hasTargetCredentials ? ', with target logins' : ''}  (${loaded.path})`
    : mode === 'path'
      ? 'No CSV loaded yet. Columns: EmailAddress, UserName, Password; optional UserRoot, TargetUserName, TargetPassword.'
      : 'No CSV loaded yet: p loads one by path, A adds users by hand (into a new CSV file).';
  const problemText = (index: number) => {
    const problem = problems[index];
    if (!problem) return '';
    return `line ${problem.line}${problem.column ? ` ${problem.column}` : ''}: ${problem.severity === 'error' ? '' : 'warning: '}${singleLine(problem.message)}`;
  };

  const emailWidth = Math.max(16, Math.min(34, Math.floor(width * 0.3)));
  const userWidth = Math.max(10, Math.min(24, Math.floor(width * 0.18)));
  const sideWidth = Math.max(8, Math.floor((width - 2 - emailWidth - userWidth - 3) / 2));
  const header = `  ${fit('EmailAddress', emailWidth, glyphs.ellipsis)} ${fit('UserName', userWidth, glyphs.ellipsis)} ${fit('Source login', sideWidth, glyphs.ellipsis)} ${fit('Target login', sideWidth, glyphs.ellipsis)}`;

  let body: React.JSX.Element;
  if (mode === 'problems') {
    const bodyHeight = Math.max(1, height - 5);
    body = (
      <Box flexDirection="column" height={height - 4} flexShrink={0}>
        <Text wrap="truncate" bold>
          {fit(`All ${problems.length} problems (P or b returns)`, width, glyphs.ellipsis)}
        </Text>
        {problems.slice(problemsTop, problemsTop + bodyHeight).map((problem, offset) => (
          <Text key={problemsTop + offset} wrap="truncate" color={tint(display, problem.severity === 'error' ? 'red' : 'yellow')}>
            {fit(problemText(problemsTop + offset), width, glyphs.ellipsis)}
          </Text>
        ))}
      </Box>
    );
  } else {
    body = (
      <Box flexDirection="column" height={height - 4} flexShrink={0}>
        {Array.from({length: problemLines}, (_, index) => (
          <Text key={index} wrap="truncate" color={tint(display, problems[index]?.severity === 'error' ? 'red' : 'yellow')}>
            {fit(problemText(index), width, glyphs.ellipsis)}
          </Text>
        ))}
        {problems.length > problemLines ? (
          <Text wrap="truncate" dimColor={display.color}>
            {fit(`${problems.length - problemLines} more problems: P lists them all`, width, glyphs.ellipsis)}
          </Text>
        ) : null}
        {mode === 'path' ? (
          <Box height={1}>
            <Text>CSV file: </Text>
            <TextField value={pathDraft} onChange={setPathDraft} focus={props.isActive} placeholder="/path/to/users.csv" />
          </Box>
        ) : (
          <Text wrap="truncate" bold>
            {fit(header, width, glyphs.ellipsis)}
          </Text>
        )}
        <Box flexDirection="column" height={tableHeight} flexShrink={0}>
          {shown.slice(window.start, window.end).map((row: MigrationRow, offset) => {
            const index = window.start + offset;
            const selected = index === window.cursor && mode !== 'path';
            const login = logins.get(row.line);
            const source = login === undefined ? '' : typeof login === 'string' ? login : sideText(login.source, glyphs);
            const target = login === undefined ? '' : typeof login === 'string' ? login : sideText(login.target, glyphs);
            const failed = typeof login === 'object' && (!login.source.ok || !login.target.ok);
            const ok = typeof login === 'object' && login.source.ok && login.target.ok;
            return (
              <Text key={row.line} wrap="truncate" inverse={selected} color={tint(display, failed ? 'red' : ok ? 'green' : undefined)}>
                {`${selected ? glyphs.selected : ' '}${view.marks.has(row.line) ? glyphs.marked : ' '}${fit(row.emailAddress, emailWidth, glyphs.ellipsis)} ${fit(row.userName, userWidth, glyphs.ellipsis)} ${fit(source, sideWidth, glyphs.ellipsis)} ${fit(target, sideWidth, glyphs.ellipsis)}`}
              </Text>
            );
          })}
          {loaded && shown.length === 0 ? <Text wrap="truncate">{rows.length === 0 ? 'The CSV has no usable rows.' : `No user matches "${view.filter}".`}</Text> : null}
        </Box>
      </Box>
    );
  }

  const filterLine =
    mode === 'filter' ? undefined : view.filter ? `filter "${view.filter}": ${shown.length} of ${rows.length}${view.marks.size ? `  ${view.marks.size} marked` : ''}` : view.marks.size ? `${view.marks.size} marked` : undefined;
  // The table cuts a failed login's reason short; the selected row's reason is shown in full here.
  const selectedLogin = logins.get(shown[window.cursor]?.line ?? -1);
  const selectedFailure =
    typeof selectedLogin === 'object' && (!selectedLogin.source.ok || !selectedLogin.target.ok)
      ? `${selectedLogin.emailAddress}: ${[!selectedLogin.source.ok ? `source: ${selectedLogin.source.error ?? 'failed'}` : '', !selectedLogin.target.ok ? `target: ${selectedLogin.target.error ?? 'failed'}` : ''].filter(Boolean).join('; ')}`
      : undefined;
  return (
    <Box flexDirection="column" height={height} flexShrink={0}>
      <Text wrap="truncate" bold inverse>
        {fit(`${props.step}  Users`, width, glyphs.ellipsis)}
      </Text>
      <Text wrap="truncate">{fit(summary, width, glyphs.ellipsis)}</Text>
      {body}
      {mode === 'filter' ? (
        <Box flexDirection="column" height={2} flexShrink={0}>
          <Box height={1}>
            <Text>/</Text>
            <TextField value={filterDraft} onChange={setFilterDraft} focus={props.isActive} placeholder="email or login" />
          </Box>
          <Text wrap="truncate" dimColor={display.color}>
            {fit('Enter apply  Esc/Ctrl-G cancel', width, glyphs.ellipsis)}
          </Text>
        </Box>
      ) : mode === 'path' ? (
        <Footer screen="users-text" width={width} status={status ?? {text: 'Type the path of the migration CSV and press Enter.', tone: 'info'}} />
      ) : (
        <Footer
          screen="users"
          width={width}
          status={status ?? (selectedFailure ? {text: selectedFailure, tone: 'error'} : filterLine ? {text: filterLine, tone: 'info'} : undefined)}
        />
      )}
    </Box>
  );
}
