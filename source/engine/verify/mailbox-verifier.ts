// Verifications run by the process that runs the batch (the UI's `v` key): connections come from
// the batch's own budgets, so the endpoints' maxConnections hold; each mailbox is verified
// against a copy of its state taken when it begins, and the result goes to the verification file
// (store/verification-file.ts) and to the mailbox's detail. Mailboxes are verified one after
// another; a request for a mailbox already waiting or being verified is not queued twice.

import type {EndpointRole} from '../../imap/imap-error.js';
import type {Logger} from '../../log/logger.js';
import type {MailboxState} from '../../store/state-schema.js';
import {readVerifications, writeVerification} from '../../store/verification-file.js';
import type {MailboxVerification} from '../../store/verification-records.js';
import type {BatchDefinition} from '../batch-model.js';
import type {AsyncSemaphore} from '../scheduler/async-semaphore.js';
import type {ResolvedSecrets} from '../credentials/row-credentials.js';
import type {MigrationRow} from '../csv/migration-csv.js';
import {verifyMailbox} from './verify-mailbox.js';

export interface MailboxVerifierOptions {
  stateFile: string;
  definition(): BatchDefinition;
  /** The mailbox's live state, by lower-cased address. */
  mailbox(key: string): MailboxState | undefined;
  rows: ReadonlyMap<string, MigrationRow>;
  secrets: ResolvedSecrets;
  logger: Logger;
  sourceConnections: AsyncSemaphore;
  targetConnections: AsyncSemaphore;
  /** Something shown changed (progress, a result). */
  onChange(): void;
}

export class MailboxVerifier {
  private readonly last = new Map<string, MailboxVerification>();
  /** key -> what to show while it waits or runs ("waiting", "INBOX (1/12)"). */
  private readonly progress = new Map<string, string>();
  private chain: Promise<void> = Promise.resolve();
  private readonly abort = new AbortController();
  private readonly loaded: Promise<void>;

  constructor(private readonly options: MailboxVerifierOptions) {
    this.loaded = readVerifications(options.stateFile).then(
      (found) => {
        for (const [key, verification] of found) if (!this.last.has(key)) this.last.set(key, verification);
        options.onChange();
      },
      (error: unknown) => options.logger.warn('could not read the last verifications', {error: String(error)}),
    );
  }

  lastVerification(key: string): MailboxVerification | undefined {
    return this.last.get(key);
  }

  /** "waiting" or the folder being compared, while a verification of this mailbox is pending. */
  progressOf(key: string): string | undefined {
    return this.progress.get(key);
  }

  /** Verifies the mailboxes in turn; resolves when all of them are done (errors are in the results). */
  verify(keys: readonly string[], deep: boolean): Promise<void> {
    const fresh = keys.filter((key) => !this.progress.has(key) && this.options.mailbox(key));
    for (const key of fresh) this.progress.set(key, 'waiting');
    if (fresh.length > 0) this.options.onChange();
    const run = this.chain.then(async () => {
      await this.loaded;
      for (const key of fresh) {
        if (this.abort.signal.aborted) break;
        try {
          await this.verifyOne(key, deep);
        } finally {
          this.progress.delete(key);
          this.options.onChange();
        }
      }
    });
    this.chain = run.catch(() => undefined);
    return run;
  }

  /** Stops a verification in progress (the process is closing). */
  async close(): Promise<void> {
    this.abort.abort(new Error('mailferry is closing'));
    for (const key of this.progress.keys()) this.progress.delete(key);
    await this.chain;
  }

  private async verifyOne(key: string, deep: boolean): Promise<void> {
    const live = this.options.mailbox(key);
    if (!live) return;
    const budget = (role: EndpointRole) => (role === 'source' ? this.options.sourceConnections : this.options.targetConnections);
    let verification: MailboxVerification;
    try {
      verification = await verifyMailbox({
        batch: this.options.definition(),
        // A copy: a pass running meanwhile must not change the checkpoints under the comparison.
        state: structuredClone(live),
        row: this.options.rows.get(key),
        secrets: this.options.secrets,
        deep,
        logger: this.options.logger,
        signal: this.abort.signal,
        connections: {acquire: (role, signal) => budget(role).acquire(1, signal), release: (role) => budget(role).release(1)},
        onFolder: (folder, index, count) => {
          this.progress.set(key, `${folder} (${index + 1}/${count})`);
          this.options.onChange();
        },
      });
    } catch (error) {
      if (this.abort.signal.aborted) return;
      throw error;
    }
    this.last.set(key, verification);
    try {
      await writeVerification(this.options.stateFile, verification);
    } catch (error) {
      this.options.logger.error('could not write the verification file', {mailbox: key, error: String(error)});
    }
  }
}
