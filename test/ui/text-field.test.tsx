import {afterEach, describe, it} from 'node:test';
import assert from 'node:assert/strict';
import React, {useState} from 'react';
import {cleanup} from 'ink-testing-library';
import {Text} from 'ink';
import {TextField, applyKeyRun} from '../../source/ui/panels/TextField.js';
import {renderUi} from './ui-harness.js';

afterEach(() => cleanup());

function Field({initial}: {initial: string}): React.JSX.Element {
  const [value, setValue] = useState(initial);
  return (
    <>
      <TextField value={value} onChange={setValue} focus />
      <Text>{`value=[${value}]`}</Text>
    </>
  );
}

describe('text field', () => {
  it('applies runs of keys that arrive together', () => {
    const table: [string, string, string | undefined][] = [
      ['993', '\u007F\u007F\u007F', ''],
      ['abc', '\u007F\u007Fx', 'ax'],
      ['', '\u007F', undefined],
      ['ab', 'cd', undefined],
      ['ab', 'c\r', 'abc'],
      ['ab', '\u001B[A', undefined],
    ];
    for (const [value, input, expected] of table) assert.equal(applyKeyRun(value, input), expected, JSON.stringify([value, input]));
  });

  it('erases on a burst of Backspace and ignores Ctrl and Alt letters', async () => {
    const ui = renderUi(<Field initial="993" />);
    await ui.waitFor((text) => text.includes('value=[993]'));
    await ui.press('\u007F\u007F\u007F');
    await ui.waitFor((text) => text.includes('value=[]'), 'three erased characters');
    await ui.type('143');
    await ui.press('ctrl+l', '\u001Bx');
    await ui.waitFor((text) => text.includes('value=[143]'));
    await ui.press('backspace');
    await ui.waitFor((text) => text.includes('value=[14]'));
  });

  it('takes a lone LF (Enter typed before raw mode) for no text', async () => {
    const ui = renderUi(<Field initial="ab" />);
    await ui.waitFor((text) => text.includes('value=[ab]'));
    await ui.press('\n');
    await ui.type('c');
    await ui.waitFor((text) => text.includes('value=[abc]'), 'c typed after the LF, and no line break in the value');
  });
});
