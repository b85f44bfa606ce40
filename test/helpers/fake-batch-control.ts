// A stand-in for the engine in UI tests: implements BatchControl, records every command it is
// sent, and publishes whatever snapshots the test scripts. It stands in for the engine, not for
// an IMAP server; nothing here speaks IMAP.

import {DEFAULT_SETTINGS, MAILBOX_STATUSES, type BatchDefinition, type MailboxStatus} from '../../source/engine/batch-model.js';
import type {BatchControl} from '../../source/engine/batch-control.js';
import type {BatchSnapshot, MailboxDetail, MailboxSnapshot} from '../../source/engine/scheduler/batch-snapshot.js';
import {TypedEmitter, type EngineEventName, type EngineEvents, type EngineListener} from '../../source/engine/engine-events.js';
import {makeEndpoint} from '../../source/imap/endpoint.js';

export type RecordedCommand =
  | {command: 'start'}
  | {command: 'stop'; emails?: string[]}
  | {command: 'resume'; emails?: string[]}
  | {command: 'syncNow'; emails?: string[]}
  | {command: 'complete'}
  | {command: 'verify'; emails: string[]; deep: boolean}
  | {command: 'close'};

export function fakeMailbox(emailAddress: string, fields: Partial<MailboxSnapshot> = {}): MailboxSnapshot {
  return {
    emailAddress,
    userName: emailAddress.split('@')[0] ?? emailAddress,
    status: 'Queued',
    itemsDone: 0,
    itemsTotal: 0,
    itemsSkipped: 0,
    itemsFailed: 0,
    bytesDone: 0,
    bytesTotal: 0,
    messagesPerSecond: 0,
    bytesPerSecond: 0,
    errorCount: 0,
    ...fields,
  };
}

export function countStatuses(mailboxes: readonly MailboxSnapshot[]): Record<MailboxStatus, number> {
  const counts = Object.fromEntries(MAILBOX_STATUSES.map((status) => [status, 0])) as Record<MailboxStatus, number>;
  for (const mailbox of mailboxes) counts[mailbox.status] += 1;
  return counts;
}

export function fakeSnapshot(mailboxes: readonly MailboxSnapshot[], fields: Partial<BatchSnapshot> = {}): BatchSnapshot {
  const sum = (pick: (mailbox: MailboxSnapshot) => number) => mailboxes.reduce((total, mailbox) => total + pick(mailbox), 0);
  return {
    name: 'spring',
    version: 1,
    at: '2026-03-01T12:00:00.000Z',
    running: true,
    completing: false,
    completed: false,
    counts: countStatuses(mailboxes),
    totals: {
      mailboxes: mailboxes.length,
      itemsDone: sum((m) => m.itemsDone),
      itemsTotal: sum((m) => m.itemsTotal),
      itemsSkipped: sum((m) => m.itemsSkipped),
      itemsFailed: sum((m) => m.itemsFailed),
      bytesDone: sum((m) => m.bytesDone),
      bytesTotal: sum((m) => m.bytesTotal),
    },
    messagesPerSecond: sum((m) => m.messagesPerSecond),
    bytesPerSecond: sum((m) => m.bytesPerSecond),
    throughputHistory: [],
    mailboxes,
    ...fields,
  };
}

export function fakeDefinition(name = 'spring'): BatchDefinition {
  return {
    name,
    createdAt: '2026-03-01T10:00:00.000Z',
    csvPath: '/tmp/users.csv',
    source: makeEndpoint({host: '127.0.0.1', port: 1143, security: 'none'}),
    target: makeEndpoint({host: '127.0.0.1', port: 2143, security: 'none'}),
    sourceCredentials: {kind: 'csv'},
    targetCredentials: {kind: 'csv'},
    settings: DEFAULT_SETTINGS,
  };
}

export class FakeBatchControl implements BatchControl {
  readonly definition: BatchDefinition;
  readonly commands: RecordedCommand[] = [];
  readonly details = new Map<string, MailboxDetail>();
  private snapshot: BatchSnapshot;
  private readonly listeners = new Set<() => void>();
  private readonly events = new TypedEmitter();

  constructor(snapshot: BatchSnapshot, definition: BatchDefinition = fakeDefinition(snapshot.name)) {
    this.snapshot = snapshot;
    this.definition = definition;
  }

  /** Publish a new picture, as the engine does a few times a second. */
  publish(snapshot: BatchSnapshot): void {
    this.snapshot = {...snapshot, version: this.snapshot.version + 1};
    for (const listener of [...this.listeners]) listener();
  }

  /** Change some mailboxes and publish, recomputing counts and totals. */
  update(change: (mailbox: MailboxSnapshot) => MailboxSnapshot, fields: Partial<BatchSnapshot> = {}): void {
    const mailboxes = this.snapshot.mailboxes.map(change);
    const {version: _version, ...rest} = this.snapshot;
    this.publish(fakeSnapshot(mailboxes, {...rest, ...fields, mailboxes, counts: countStatuses(mailboxes), totals: fakeSnapshot(mailboxes).totals}));
  }

  emit<K extends EngineEventName>(event: K, payload: EngineEvents[K]): void {
    this.events.emit(event, payload);
  }

  get subscriberCount(): number {
    return this.listeners.size;
  }

  getSnapshot = (): BatchSnapshot => this.snapshot;

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  on<K extends EngineEventName>(event: K, listener: EngineListener<K>): () => void {
    return this.events.on(event, listener);
  }

  getMailboxDetail(emailAddress: string): MailboxDetail | undefined {
    return this.details.get(emailAddress);
  }

  async start(): Promise<void> {
    this.commands.push({command: 'start'});
  }

  async stop(emailAddresses?: readonly string[]): Promise<void> {
    this.commands.push(emailAddresses ? {command: 'stop', emails: [...emailAddresses]} : {command: 'stop'});
  }

  resume(emailAddresses?: readonly string[]): void {
    this.commands.push(emailAddresses ? {command: 'resume', emails: [...emailAddresses]} : {command: 'resume'});
  }

  syncNow(emailAddresses?: readonly string[]): void {
    this.commands.push(emailAddresses ? {command: 'syncNow', emails: [...emailAddresses]} : {command: 'syncNow'});
  }

  async complete(): Promise<void> {
    this.commands.push({command: 'complete'});
  }

  /** What verify() does before it resolves (a test shows progress and sets the detail's result here). */
  onVerify: (emails: string[]) => Promise<void> | void = () => {};

  async verify(emailAddresses: readonly string[], options: {deep?: boolean} = {}): Promise<void> {
    this.commands.push({command: 'verify', emails: [...emailAddresses], deep: options.deep === true});
    await this.onVerify([...emailAddresses]);
  }

  async whenIdle(): Promise<void> {}

  async close(): Promise<void> {
    this.commands.push({command: 'close'});
  }
}
