// Reading a test Dovecot's log as a condition to wait on. Dovecot writes it through its log
// process, a moment after the event: a test that counts logins or needs a session to be over
// waits for the line that proves it, not for the log to look quiet.

import {randomUUID} from 'node:crypto';
import {readFileSync} from 'node:fs';
import net from 'node:net';
import {dovecotPaths} from './dovecot-config.js';
import type {DovecotServer} from './dovecot-pair.js';
import {waitFor} from './batch-fixture.js';

export function dovecotLog(server: DovecotServer): string {
  try {
    return readFileSync(dovecotPaths(server.dir).log, 'latin1');
  } catch {
    return '';
  }
}

/** Sessions (Dovecot session ids) that logged in as a user `user` accepts, and which of them ended. */
export function sessions(server: DovecotServer, user: (name: string) => boolean): {started: string[]; ended: string[]} {
  const log = dovecotLog(server);
  const started = [...log.matchAll(/imap-login: (?:Info: )?Login: user=<([^>]*)>.*session=<([^>]+)>/g)].filter((m) => user(m[1]!)).map((m) => m[2]!);
  // mail_log_prefix "%s(%u)<%{pid}><%{session}>: " (Dovecot 2.3 default); an imap process logs
  // "Disconnected" once its last command has finished or been aborted, so nothing it stores after.
  const ended = new Set([...log.matchAll(/imap\([^)]*\)<\d+><([^>]+)>: (?:Info: )?Disconnected/g)].map((m) => m[1]!));
  return {started, ended: started.filter((id) => ended.has(id))};
}

/** Until every session that logged in as `user` so far has ended on the server. */
export async function sessionsEnded(server: DovecotServer, user: (name: string) => boolean): Promise<number> {
  return waitFor(`${server.role}: every session of the user ended`, () => {
    const {started, ended} = sessions(server, user);
    return started.length > 0 && ended.length === started.length ? started.length : undefined;
  });
}

/**
 * Until the login process has logged everything it did so far. A failed login of a made-up user
 * is the sentinel: the test servers run one long-lived imap-login process (service_count = 0),
 * whose lines reach the log in order, so once the sentinel's line is there every Login line
 * before it is too.
 */
export async function loginLogSettled(server: DovecotServer): Promise<void> {
  const sentinel = `sentinel-${randomUUID()}`;
  await new Promise<void>((resolve, reject) => {
    const socket = net.connect(server.imapPort, server.host);
    let seen = '';
    let sent = 0;
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      seen += chunk;
      if (sent === 0 && seen.includes('* OK')) {
        sent = 1;
        socket.write(`s1 LOGIN ${sentinel} wrong\r\n`);
      } else if (sent === 1 && /^s1 /m.test(seen)) {
        sent = 2;
        socket.write('s2 LOGOUT\r\n');
      }
    });
    socket.on('error', reject);
    socket.on('close', () => resolve());
  });
  await waitFor(`${server.role}: the sentinel login in the log`, () => (dovecotLog(server).split('\n').some((line) => line.includes('imap-login: ') && line.includes(sentinel)) ? true : undefined));
}
