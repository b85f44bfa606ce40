import {describe, it} from 'node:test';
import assert from 'node:assert/strict';
import type {Key} from 'ink';
import {ACTIONS, BINDINGS, SCREEN_CONTEXTS, bindingsFor, footerHints, helpSections, keyLabel, keyName, resolveKey, type Screen} from '../../source/ui/keymap.js';
import {keyNames} from '../../source/ui/use-keys.js';

const NO_KEY: Key = {
  upArrow: false, downArrow: false, leftArrow: false, rightArrow: false, pageDown: false, pageUp: false, home: false, end: false,
  return: false, escape: false, ctrl: false, shift: false, tab: false, backspace: false, delete: false, meta: false,
  super: false, hyper: false, capsLock: false, numLock: false,
};
const key = (fields: Partial<Key>): Key => ({...NO_KEY, ...fields});

describe('keymap', () => {
  it('binds every action to at least one key', () => {
    const bound = new Set(BINDINGS.map((binding) => binding.action));
    const unbound = ACTIONS.filter((action) => !bound.has(action));
    assert.deepEqual(unbound, []);
    for (const binding of BINDINGS) assert.ok(binding.keys.length > 0, `${binding.action} in ${binding.context} has no key`);
  });

  it('never binds one key to two actions on the same screen', () => {
    for (const screen of Object.keys(SCREEN_CONTEXTS) as Screen[]) {
      const seen = new Map<string, string>();
      for (const binding of bindingsFor(screen)) {
        for (const name of binding.keys) {
          const previous = seen.get(name);
          assert.ok(previous === undefined || previous === binding.action, `${screen}: ${name} is bound to ${previous} and ${binding.action}`);
          seen.set(name, binding.action);
        }
      }
    }
  });

  it('binds no F-keys and gives every Esc action a non-Esc key too', () => {
    for (const binding of BINDINGS) {
      assert.ok(!binding.keys.some((name) => /^f\d+$/i.test(name)), `${binding.action} uses an F-key`);
      if (binding.keys.includes('esc')) {
        assert.ok(binding.keys.some((name) => name !== 'esc'), `${binding.action} in ${binding.context} is Esc only`);
        assert.ok(binding.action !== 'quit' && binding.action !== 'interrupt', `Esc quits in ${binding.context}`);
      }
    }
  });

  it('every binding context is reachable from some screen', () => {
    const reachable = new Set(Object.values(SCREEN_CONTEXTS).flat());
    for (const binding of BINDINGS) assert.ok(reachable.has(binding.context), `${binding.context} is on no screen`);
  });

  it('lists every binding in the help overlay', () => {
    const sections = helpSections(false);
    const rows = sections.flatMap((section) => section.rows);
    assert.equal(rows.length, BINDINGS.length);
    for (const binding of BINDINGS) {
      const label = binding.keys.map((name) => keyLabel(name, false)).join(' ');
      assert.ok(rows.some((row) => row.keys === label && row.help === binding.help), `help lacks ${binding.action} (${label})`);
    }
  });

  it('footer hints show only keys that work on that screen, essentials kept when narrow', () => {
    const wide = footerHints('grid', true);
    assert.match(wide, /s stop/);
    assert.match(wide, /\? help/);
    for (const part of wide.split('  ')) {
      const name = part.split(' ')[0]!;
      const keyId = name === 'Enter' ? 'enter' : name === 'Space' ? 'space' : name;
      assert.ok(resolveKey('grid', keyId) !== undefined, `footer shows ${name}, which does nothing in the grid`);
    }
    const narrow = footerHints('grid', true, 30);
    assert.ok(narrow.length <= 30, narrow);
    assert.match(narrow, /q quit/);
    assert.match(narrow, /\? help/);
  });

  it('resolves keys through the screen context chain', () => {
    const table: [Screen, string, string | undefined][] = [
      ['grid', 'j', 'down'],
      ['grid', 'down', 'down'],
      ['grid', 's', 'stop'],
      ['grid', 'S', 'stopAll'],
      ['grid', 'ctrl+c', 'interrupt'],
      ['grid', 'ctrl+l', 'repaint'],
      ['grid', 'esc', 'clear'],
      ['grid', 'x', 'clear'],
      ['detail', 'q', 'back'],
      ['detail', 'esc', 'back'],
      ['grid', 'q', 'quit'],
      ['confirm', 'y', 'confirmYes'],
      ['confirm', 'esc', 'confirmNo'],
      ['confirm', 's', undefined],
      ['grid-filter', 'j', undefined],
      ['grid-filter', 'enter', 'applyText'],
      ['form-text', 'q', undefined],
      ['form-choice', 'space', 'choiceNext'],
    ];
    for (const [screen, name, action] of table) assert.equal(resolveKey(screen, name), action, `${screen} ${name}`);
  });

  it('names Ink key events', () => {
    const table: [string, Partial<Key>, string | undefined][] = [
      ['j', {}, 'j'],
      ['G', {shift: true}, 'G'],
      [' ', {}, 'space'],
      ['', {return: true}, 'enter'],
      // Enter typed before raw mode (while mailferry starts) comes through the tty as LF.
      ['\n', {}, 'enter'],
      ['', {escape: true, meta: true}, 'esc'],
      ['', {upArrow: true}, 'up'],
      ['', {pageDown: true}, 'pagedown'],
      ['', {tab: true}, 'tab'],
      ['', {tab: true, shift: true}, 'shift+tab'],
      ['', {delete: true}, 'backspace'],
      ['l', {ctrl: true}, 'ctrl+l'],
      ['c', {ctrl: true}, 'ctrl+c'],
      ['j', {meta: true}, 'meta+j'],
      ['abc', {}, undefined],
    ];
    for (const [input, fields, expected] of table) assert.equal(keyName(input, key(fields)), expected, JSON.stringify([input, fields]));
  });

  it('splits keys that arrive together into single presses outside text fields', () => {
    assert.deepEqual(keyNames('jjj', key({})), ['j', 'j', 'j']);
    assert.deepEqual(keyNames('j\r', key({})), ['j', 'enter']);
    assert.deepEqual(keyNames('x', key({})), ['x']);
    assert.deepEqual(keyNames('\u001B[A\u001B[A', key({})), []);
  });
});
