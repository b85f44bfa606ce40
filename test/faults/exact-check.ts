// The campaign's exact check: each mailbox's source and target as a client sees them (client-view.ts:
// every folder with attributes and subscriptions, per message the bytes of BODY[] and BINARY[],
// flags with keywords, the internal date), compared by compareClientViews, and the messages
// counted as lost (a source message without its copy in the mapped target folder) and duplicated
// (a target message whose bytes match a source message that already has its copy there).
// The folder mapping comes from the test servers' own configuration, not from the engine.

import type {DovecotServer} from '../helpers/dovecot-pair.js';
import {readClientView, type ClientView, type ViewMessage} from '../helpers/client-view.js';
import {compareClientViews} from '../helpers/client-view-compare.js';
import {expectedTargetFolder} from '../helpers/compare-mailboxes.js';

export interface CheckedMailbox {
  sourceLogin: string;
  targetLogin: string;
}

export interface ExactCheckResult {
  mailboxes: number;
  /** Source messages compared. */
  messages: number;
  lost: number;
  duplicated: number;
  /** Every difference, prefixed with the mailbox (flags, dates, folders, subscriptions, foreign messages). */
  problems: string[];
}

const keyOf = (message: ViewMessage) => `${message.body}/${message.binary}`;

function countKeys(messages: readonly ViewMessage[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const message of messages) counts.set(keyOf(message), (counts.get(keyOf(message)) ?? 0) + 1);
  return counts;
}

/** Lost and duplicated messages of one mailbox, folder by folder under `mapFolder`. */
export function countLostAndDuplicated(source: ClientView, target: ClientView, mapFolder: (sourcePath: string) => string): {messages: number; lost: number; duplicated: number} {
  let messages = 0;
  let lost = 0;
  let duplicated = 0;
  for (const folder of source.folders.values()) {
    messages += folder.messages.length;
    const want = countKeys(folder.messages);
    const have = countKeys(target.folders.get(mapFolder(folder.path))?.messages ?? []);
    for (const [key, wanted] of want) {
      const got = have.get(key) ?? 0;
      if (got < wanted) lost += wanted - got;
      else duplicated += got - wanted;
    }
  }
  return {messages, lost, duplicated};
}

/**
 * Compares every mailbox in `mailboxes` between `source` and `target` exactly. A scenario whose
 * source never changes passes `sourceViews` to read each source mailbox once per campaign.
 */
export async function exactCheck(
  source: DovecotServer,
  target: DovecotServer,
  mailboxes: readonly CheckedMailbox[],
  sourceViews?: Map<string, ClientView>,
): Promise<ExactCheckResult> {
  const result: ExactCheckResult = {mailboxes: mailboxes.length, messages: 0, lost: 0, duplicated: 0, problems: []};
  const mapFolder = (sourcePath: string) => expectedTargetFolder(source, target, sourcePath);
  for (const mailbox of mailboxes) {
    const sourceView = sourceViews?.get(mailbox.sourceLogin) ?? (await readClientView(source, mailbox.sourceLogin));
    sourceViews?.set(mailbox.sourceLogin, sourceView);
    const targetView = await readClientView(target, mailbox.targetLogin);
    const counts = countLostAndDuplicated(sourceView, targetView, mapFolder);
    result.messages += counts.messages;
    result.lost += counts.lost;
    result.duplicated += counts.duplicated;
    for (const problem of compareClientViews(sourceView, targetView, {mapFolder, caseIndex: new Map()})) {
      result.problems.push(`${mailbox.targetLogin}: ${problem}`);
    }
  }
  return result;
}
