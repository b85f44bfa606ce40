// Folder commands imapflow 2.1.2 has no call for, over a raw session and over imapflow alike:
// CREATE with RFC 6154's USE parameter, and a LIST of one folder that reports what the server
// says about its \Subscribed state and special-use attribute (imapflow's list() reports INBOX as
// subscribed whatever the server says, and mailboxCreate() takes no USE).
//
// Over imapflow they go through its exec(), which is marked @internal but is what every imapflow
// command module uses: it queues the command behind the connection's others, so one command is
// still in flight at a time. The attribute shapes are imapflow's compiler's (imap-compiler.js):
// arrays become parenthesized lists, STRING is quoted, ATOM is written as it is.

import type {ImapFlow} from 'imapflow';
import {encodeModifiedUtf7} from './modified-utf7.js';
import {mailboxArgument} from './raw-session.js';

/** The RFC 6154 attribute names CREATE ... (USE (...)) can ask for. */
const USE_ATTRIBUTE = /^\\[A-Za-z]+$/;

/**
 * `CREATE "name" (USE (\Sent))`: RFC 6154 section 3 (create-param "USE" SP "(" use-attr ")"),
 * within RFC 4466's create-params. Only for servers that advertise CREATE-SPECIAL-USE.
 */
export function createSpecialUseCommand(name: string, use: string): string {
  if (!USE_ATTRIBUTE.test(use)) throw new Error(`not a special-use attribute: ${use}`);
  return `CREATE ${mailboxArgument(name)} (USE (${use}))`;
}

/** One folder's attributes as its server lists them, \Subscribed among them (RFC 5258 RETURN (SUBSCRIBED)). */
export function listOneCommand(name: string, extended: boolean, specialUse: boolean): string {
  const returns = ['SUBSCRIBED', ...(specialUse ? ['SPECIAL-USE'] : [])];
  return extended ? `LIST "" ${mailboxArgument(name)} RETURN (${returns.join(' ')})` : `LIST "" ${mailboxArgument(name)}`;
}

interface ImapflowAttribute {
  type?: string;
  value?: unknown;
}
type ExecAttribute = {type: 'ATOM' | 'STRING'; value: string} | ExecAttribute[];
interface ExecResponse {
  next(): void;
}
interface Untagged {
  attributes?: (ImapflowAttribute | ImapflowAttribute[])[];
}
interface ImapflowExec {
  exec(command: string, attributes: ExecAttribute[], options?: {untagged?: Record<string, (untagged: Untagged) => Promise<void>>}): Promise<ExecResponse>;
  enabled?: Set<string>;
}

function execOf(client: ImapFlow): ImapflowExec['exec'] | undefined {
  const exec = (client as unknown as Partial<ImapflowExec>).exec;
  return typeof exec === 'function' ? exec.bind(client) : undefined;
}

function wireName(client: ImapFlow, name: string): string {
  // As imapflow's own encodePath(): UTF-8 once UTF8=ACCEPT is enabled, modified UTF-7 before.
  return (client as unknown as ImapflowExec).enabled?.has('UTF8=ACCEPT') ? name : encodeModifiedUtf7(name);
}

/** True when this imapflow can send the commands below (false would mean another imapflow). */
export function imapflowCanExec(client: ImapFlow): boolean {
  return execOf(client) !== undefined;
}

/** CREATE name (USE (\X)) over imapflow; it does not subscribe (mailboxCreate would). */
export async function imapflowCreateSpecialUse(client: ImapFlow, name: string, use: string): Promise<void> {
  if (!USE_ATTRIBUTE.test(use)) throw new Error(`not a special-use attribute: ${use}`);
  const exec = execOf(client);
  if (!exec) throw new Error('this imapflow cannot send CREATE with USE');
  const response = await exec('CREATE', [{type: 'STRING', value: wireName(client, name)}, [{type: 'ATOM', value: 'USE'}, [{type: 'ATOM', value: use}]]]);
  response.next();
}

/** What LIST says of one folder: undefined when it is not listed. */
export interface ListedAttributes {
  flags: string[];
  subscribed: boolean;
}

/** LIST of one folder over imapflow, with RETURN (SUBSCRIBED ...) when the server has LIST-EXTENDED. */
export async function imapflowListOne(client: ImapFlow, name: string, extended: boolean, specialUse: boolean): Promise<ListedAttributes | undefined> {
  const exec = execOf(client);
  if (!exec) throw new Error('this imapflow cannot send LIST');
  let found: ListedAttributes | undefined;
  const returns: ExecAttribute[] = [{type: 'ATOM', value: 'SUBSCRIBED'}, ...(specialUse ? [{type: 'ATOM' as const, value: 'SPECIAL-USE'}] : [])];
  const attributes: ExecAttribute[] = [{type: 'STRING', value: ''}, {type: 'STRING', value: wireName(client, name)}, ...(extended ? [{type: 'ATOM' as const, value: 'RETURN'}, returns] : [])];
  const response = await exec('LIST', attributes, {
    untagged: {
      LIST: async (untagged) => {
        const list = untagged.attributes?.[0];
        const flags = Array.isArray(list) ? list.map((item) => String(item.value ?? '')).filter(Boolean) : [];
        const subscribed = flags.some((flag) => flag.toLowerCase() === '\\subscribed');
        found = {flags: flags.filter((flag) => flag.toLowerCase() !== '\\subscribed'), subscribed};
      },
    },
  });
  response.next();
  return found;
}

/** LSUB of one folder over imapflow (servers without LIST-EXTENDED): is it subscribed? */
export async function imapflowLsubOne(client: ImapFlow, name: string): Promise<boolean> {
  const exec = execOf(client);
  if (!exec) throw new Error('this imapflow cannot send LSUB');
  let found = false;
  const response = await exec('LSUB', [{type: 'STRING', value: ''}, {type: 'STRING', value: wireName(client, name)}], {
    untagged: {
      LSUB: async (untagged) => {
        const list = untagged.attributes?.[0];
        const flags = Array.isArray(list) ? list.map((item) => String(item.value ?? '').toLowerCase()) : [];
        // RFC 3501 6.3.9: \Noselect in LSUB marks a parent that is listed but not subscribed itself.
        if (!flags.includes('\\noselect')) found = true;
      },
    },
  });
  response.next();
  return found;
}
