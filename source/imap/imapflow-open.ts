// imapflow's mailboxOpen with the answer its types leave out: when the connection closes while
// SELECT or EXAMINE runs (a server restarting), it can resolve without a mailbox instead of
// throwing. Read as a folder that opened, that became "Cannot read properties of undefined
// (reading 'exists')", an internal error that failed the mailbox (found by the fault campaign's
// restart rounds); it is a lost connection, retried as one.

import type {ImapFlow, MailboxObject} from 'imapflow';

export async function openMailbox(client: ImapFlow, path: string, options: {readOnly?: boolean} = {}): Promise<MailboxObject> {
  const box = (await client.mailboxOpen(path, options)) as MailboxObject | false | undefined;
  if (box) return box;
  throw Object.assign(new Error(`Connection closed while opening "${path}"`), {code: 'NoConnection'});
}
