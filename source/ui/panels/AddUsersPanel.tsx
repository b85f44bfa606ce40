// "Add users" from the progress grid (A): load a CSV by path, or type one user by hand, which is
// appended to a CSV file first (by default the batch's own), because the CSV is where mailferry
// reads passwords again on every start. Either way the file is validated as check-csv does and a
// file with errors adds nothing; the new rows join the running batch as Queued.

import React, {useCallback, useState} from 'react';
import {readFile} from 'node:fs/promises';
import {resolve} from 'node:path';
import type {BatchControl} from '../../engine/batch-control.js';
import type {AdditionPlan} from '../../engine/batch-membership.js';
import {parseMigrationCsv, type CsvProblem} from '../../engine/csv/migration-csv.js';
import {csvOptionsForSource} from '../../engine/credentials/oauth-identity.js';
import {formatError, MigrationError} from '../../imap/imap-error.js';
import {registerSecret} from '../../log/secret-redaction.js';
import {appendUser, csvRecord, type HandUser} from '../csv-append.js';
import {singleLine} from '../format/text-fit.js';
import type {StatusMessage} from './Footer.js';
import {FormPanel, type FormField} from './FormPanel.js';

export interface AddUsersPanelProps {
  control: Pick<BatchControl, 'definition' | 'getSnapshot' | 'addUsersFromCsv'>;
  width: number;
  height: number;
  isActive: boolean;
  /** Users were added (or nothing was new): back to the grid with this outcome. */
  onDone(status: StatusMessage): void;
  onBack(): void;
  onInterrupt(): void;
}

type Mode = 'load' | 'hand';

const MAX_PROBLEM_NOTES = 6;

function problemLine(problem: CsvProblem): string {
  return `line ${problem.line}${problem.column ? `, ${problem.column}` : ''}: ${singleLine(problem.message)}`;
}

/** "Added 2 users as Queued; 1 already in the batch, left alone." */
export function additionOutcome(plan: AdditionPlan, added: number): StatusMessage {
  const left = plan.alreadyInBatch.length > 0 ? `; ${plan.alreadyInBatch.length} already in the batch, left alone` : '';
  if (added === 0) return {text: `Nothing to add: every row of ${plan.csvPath} is already in the batch.`, tone: 'warn'};
  return {text: `Added ${added} user${added === 1 ? '' : 's'} to the batch as Queued${left}.`, tone: 'ok'};
}

export function AddUsersPanel(props: AddUsersPanelProps): React.JSX.Element {
  const {control} = props;
  const targetIsCsv = control.definition.targetCredentials.kind === 'csv';
  // With OAuth2 on the source the CSV holds no source password, and none is asked for.
  const csvOptions = csvOptionsForSource(control.definition.sourceCredentials);
  const sourcePasswords = !csvOptions.sourcePasswordsOptional;
  const [mode, setMode] = useState<Mode>('load');
  const [values, setValues] = useState<Record<string, string>>({handCsv: control.definition.csvPath});
  const [problems, setProblems] = useState<Record<string, string>>({});
  const [notes, setNotes] = useState<string[]>([]);
  const [status, setStatus] = useState<StatusMessage | undefined>();
  const [busy, setBusy] = useState(false);

  const addFrom = useCallback(
    /** `field`: the button pressed, so its problem shows under it (where the focus is). */
    async (path: string, field: string): Promise<void> => {
      if (!control.addUsersFromCsv) {
        setStatus({text: 'This batch cannot take users here; use: mailferry batch add NAME --csv FILE', tone: 'error'});
        return;
      }
      setStatus({text: `Reading ${path}…`, tone: 'info'});
      try {
        const plan = await control.addUsersFromCsv(path);
        if (plan.errors.length > 0) {
          const lines = plan.errors.map(problemLine);
          setNotes([...lines.slice(0, MAX_PROBLEM_NOTES), ...(lines.length > MAX_PROBLEM_NOTES ? [`… and ${lines.length - MAX_PROBLEM_NOTES} more (mailferry check-csv ${path} lists them all)`] : [])]);
          setProblems({[field]: `${plan.errors.length} error${plan.errors.length === 1 ? '' : 's'} in ${path}: nothing was added. Fix the file and try again.`});
          setStatus(undefined);
          return;
        }
        props.onDone(additionOutcome(plan, plan.toAdd.length));
      } catch (error) {
        setProblems({[field]: error instanceof MigrationError ? formatError(error) : String(error)});
        setStatus(undefined);
      }
    },
    [control, props],
  );

  const loadCsv = useCallback(async () => {
    const raw = (values['csv'] ?? '').trim();
    if (!raw) {
      setProblems({csv: 'Type the path of a migration CSV (EmailAddress,UserName,Password per row).'});
      return;
    }
    await addFrom(resolve(raw), 'load');
  }, [values, addFrom]);

  const addByHand = useCallback(async () => {
    const found: Record<string, string> = {};
    for (const id of ['emailAddress', 'userName', ...(sourcePasswords ? ['password'] : []), 'handCsv', ...(targetIsCsv ? ['targetUserName', 'targetPassword'] : [])]) {
      if (!(values[id] ?? '').trim()) found[id] = 'Required.';
    }
    const emailAddress = (values['emailAddress'] ?? '').trim();
    if (emailAddress && control.getSnapshot().mailboxes.some((mailbox) => mailbox.emailAddress.toLowerCase() === emailAddress.toLowerCase())) {
      found['emailAddress'] = `${emailAddress} is already in the batch.`;
    }
    setProblems(found);
    setNotes([]);
    if (Object.keys(found).length > 0) return;
    const path = resolve((values['handCsv'] ?? '').trim());
    if (values['password']) registerSecret(values['password']);
    registerSecret(values['targetPassword']);
    const user: HandUser = {
      emailAddress,
      userName: (values['userName'] ?? '').trim(),
      password: values['password'] ?? '',
      ...(targetIsCsv ? {targetUserName: (values['targetUserName'] ?? '').trim(), targetPassword: values['targetPassword'] ?? ''} : {}),
    };
    // The file as it would be after the append is checked first: a row with a problem must not
    // land in a CSV the batch reads on every start.
    let existing: string | undefined;
    try {
      existing = await readFile(path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
        setProblems({handCsv: `Cannot read ${path}: ${error instanceof Error ? error.message : String(error)}`});
        return;
      }
    }
    const current = existing === undefined ? undefined : parseMigrationCsv(existing, csvOptions);
    const columns = current?.columns ?? ['EmailAddress', 'UserName', 'Password', ...(targetIsCsv ? ['TargetUserName', 'TargetPassword'] : [])];
    const delimiter = current?.delimiter ?? ',';
    const header = existing === undefined ? `${columns.join(',')}\r\n` : existing.length > 0 && !existing.endsWith('\n') ? `${existing}\r\n` : existing;
    const after = parseMigrationCsv(`${header}${csvRecord(user, columns, delimiter)}\r\n`, csvOptions);
    const errors = after.problems.filter((problem) => problem.severity === 'error');
    if (targetIsCsv && !after.hasTargetCredentials) {
      setProblems({handCsv: `${path} has no TargetUserName/TargetPassword columns, which this batch logs in to the target with; add them in an editor first, or choose another file.`});
      return;
    }
    if (errors.length > 0) {
      setNotes(errors.slice(0, MAX_PROBLEM_NOTES).map(problemLine));
      setProblems({add: `${path} would have ${errors.length} error${errors.length === 1 ? '' : 's'} with this user: nothing was written or added.`});
      return;
    }
    try {
      await appendUser(path, user, current ? {columns, delimiter} : undefined);
    } catch (error) {
      setProblems({handCsv: `Cannot write ${path}: ${error instanceof Error ? error.message : String(error)}`});
      return;
    }
    await addFrom(path, 'add');
  }, [values, targetIsCsv, sourcePasswords, csvOptions, control, addFrom]);

  const onButton = useCallback(
    (id: string) => {
      if (busy) return;
      const work = id === 'load' ? loadCsv : id === 'add' ? addByHand : undefined;
      if (id === 'hand' || id === 'toLoad') {
        setMode(id === 'hand' ? 'hand' : 'load');
        setProblems({});
        setNotes([]);
        return;
      }
      if (id === 'back') {
        props.onBack();
        return;
      }
      if (!work) return;
      setBusy(true);
      void work().finally(() => setBusy(false));
    },
    [busy, loadCsv, addByHand, props],
  );

  const fields: FormField[] =
    mode === 'load'
      ? [
          {kind: 'text', id: 'csv', label: 'CSV file', placeholder: 'path of a migration CSV', help: 'EmailAddress,UserName,Password per row (as for a new batch). Rows already in the batch are left alone.'},
          {kind: 'button', id: 'load', label: 'Add its users', help: 'Checks the file as check-csv does; a file with errors adds nothing.'},
          {kind: 'button', id: 'hand', label: 'Type one user by hand', help: 'One user, appended to a CSV file the batch reads.'},
          {kind: 'button', id: 'back', label: 'Back', help: 'Back to the grid.'},
        ]
      : [
          {kind: 'text', id: 'emailAddress', label: 'EmailAddress', help: 'The target mailbox, e.g. terry.adams@contoso.edu.'},
          {kind: 'text', id: 'userName', label: 'UserName', help: 'The source login, exactly as the source server expects it (admin forms like user*admin work).'},
          ...(sourcePasswords
            ? [{kind: 'text' as const, id: 'password', label: 'Password', mask: true, help: 'The source password; written to the CSV file, never to the state file.'}]
            : []),
          ...(targetIsCsv
            ? [
                {kind: 'text' as const, id: 'targetUserName', label: 'TargetUserName', help: 'The target login of this user.'},
                {kind: 'text' as const, id: 'targetPassword', label: 'TargetPassword', mask: true, help: 'The target password; written to the CSV file only.'},
              ]
            : []),
          {kind: 'text', id: 'handCsv', label: 'Append to CSV', help: 'The CSV the user is written to (the batch\'s own by default; a new file is created with mode 600). Keep it: passwords are read from it on every start.'},
          {kind: 'button', id: 'add', label: 'Add to the batch', help: 'Appends the user to the CSV file and adds it to the batch as Queued.'},
          {kind: 'button', id: 'toLoad', label: 'Load a CSV instead', help: 'Add the users of a whole CSV file.'},
          {kind: 'button', id: 'back', label: 'Back', help: 'Back to the grid.'},
        ];

  return (
    <FormPanel
      key={mode}
      title={`Add users to batch ${control.definition.name}${mode === 'hand' ? ': one user by hand' : ': from a CSV'}`}
      fields={fields}
      values={values}
      problems={problems}
      notes={notes.length > 0 ? notes : ['Passwords stay in the CSV files (mailferry reads them again on every start), never in the state file.']}
      status={status}
      width={props.width}
      height={props.height}
      isActive={props.isActive && !busy}
      onChange={(id, value) => setValues((current) => ({...current, [id]: value}))}
      onButton={onButton}
      onBack={props.onBack}
      onInterrupt={props.onInterrupt}
    />
  );
}
