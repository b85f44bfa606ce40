// Message bodies live in Buffers outside V8's heap, behind tiny JS handles, so V8 sees little
// reason to collect them: after a few 30 MB messages the process holds hundreds of MB of bodies
// that are already garbage. imapflow also copies a body several times (parser chunks, the
// compiled APPEND command, CRLF concatenation), none of which mailferry can avoid while using it.
// Collecting once enough large bodies have been released keeps the resident size near the
// in-flight budget instead of a multiple of it.

import v8 from 'node:v8';
import vm from 'node:vm';

const LARGE_BODY_BYTES = 1024 * 1024;
const COLLECT_EVERY_BYTES = 16 * 1024 * 1024;
const MAJOR_EVERY_BYTES = 32 * 1024 * 1024;

type Collect = (options?: {type?: 'minor' | 'major'}) => void;
let collect: Collect | undefined;
let released = 0;
let sinceMajor = 0;

function collector(): Collect {
  if (collect === undefined) {
    try {
      v8.setFlagsFromString('--expose_gc');
      collect = vm.runInNewContext('gc') as Collect;
    } catch {
      collect = () => {};
    }
  }
  return collect;
}

/**
 * Call when a message body of `bytes` is no longer referenced. Most dead bodies are young (a
 * slice, a body appended within milliseconds), so a cheap minor collection frees them; a major
 * one now and then catches bodies that lived long enough to be promoted.
 */
export function noteBodyReleased(bytes: number): void {
  if (bytes < LARGE_BODY_BYTES) return;
  released += bytes;
  if (released < COLLECT_EVERY_BYTES) return;
  sinceMajor += released;
  released = 0;
  if (sinceMajor >= MAJOR_EVERY_BYTES) {
    sinceMajor = 0;
    collector()({type: 'major'});
  } else {
    collector()({type: 'minor'});
  }
}
