// Message bodies live in Buffers outside V8's heap, behind tiny JS handles, so V8 sees little
// reason to collect them: after a few 30 MB messages the process holds hundreds of MB of bodies
// that are already garbage. imapflow also copies a body several times (parser chunks, the
// compiled APPEND command, CRLF concatenation), none of which mailferry can avoid while using it.
// Collecting once enough large bodies have been released keeps the resident size near the
// in-flight budget instead of a multiple of it.

import v8 from 'node:v8';
import vm from 'node:vm';

const LARGE_BODY_BYTES = 4 * 1024 * 1024;
const COLLECT_EVERY_BYTES = 32 * 1024 * 1024;

let collect: (() => void) | undefined;
let released = 0;

function collector(): () => void {
  if (collect === undefined) {
    try {
      v8.setFlagsFromString('--expose_gc');
      collect = vm.runInNewContext('gc') as () => void;
    } catch {
      collect = () => {};
    }
  }
  return collect;
}

/**
 * Call when a message body of `bytes` is no longer referenced. Only large bodies count: small
 * ones are collected soon enough by V8 itself, and each forced collection costs tens of
 * milliseconds of CPU that the copy needs.
 */
export function noteBodyReleased(bytes: number): void {
  if (bytes < LARGE_BODY_BYTES) return;
  released += bytes;
  if (released < COLLECT_EVERY_BYTES) return;
  released = 0;
  collector()();
}
