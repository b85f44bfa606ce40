// The endpoint setup form with OAuth2 chosen as the login mechanism: its fields appear, the token
// command can be typed, and everything still fits 80 columns.

import {afterEach, describe, it} from 'node:test';
import assert from 'node:assert/strict';
import React, {useState} from 'react';
import {cleanup} from 'ink-testing-library';
import {presetById} from '../../source/imap/presets.js';
import {EndpointSetup} from '../../source/ui/panels/EndpointSetup.js';
import {draftFromPreset, endpointFromDraft, targetCredentialsFromDraft, type EndpointDraft} from '../../source/ui/view-state/endpoint-draft.js';
import {renderUi} from './ui-harness.js';

afterEach(() => cleanup());

describe('endpoint setup with OAuth2', () => {
  it('choosing OAuth2 shows the token command and mechanism, and the test gets them', async () => {
    let tested: EndpointDraft | undefined;
    function Harness(): React.JSX.Element {
      const [draft, setDraft] = useState<EndpointDraft | undefined>(draftFromPreset(presetById('microsoft365')!));
      return (
        <EndpointSetup role="target" draft={draft} step="Step 3/6" width={80} height={23} isActive onDraftChange={setDraft}
          onTest={(value) => (tested = value)} onBack={() => {}} onQuit={() => {}} onInterrupt={() => {}} />
      );
    }
    const ui = renderUi(<Harness />);
    await ui.waitFor((text) => /> Host/.test(text));
    await ui.press('tab', 'tab', 'tab', 'tab');
    await ui.waitFor((text) => /> Login mechanism/.test(text));
    await ui.press('left');
    let frame = await ui.waitFor((text) => /\[OAuth2\]/.test(text) && text.includes('Token command'));
    assert.match(frame, /Log in with\s+\[each user's token\]\s+admin token/);
    assert.ok(!frame.includes('Test login password'), 'no password to type with OAuth2');
    await ui.press('tab', 'tab');
    await ui.waitFor((text) => /> Token command/.test(text));
    await ui.type('get-token {email}');
    await ui.press('tab', 'right');
    frame = await ui.waitFor((text) => /OAuth2 mechanism\s+auto\s+\[XOAUTH2\]/.test(text));
    for (const line of frame.split('\n')) assert.ok(Array.from(line).length <= 80, `too wide: ${line}`);
    await ui.press('tab');
    await ui.type('alice@contoso.com');
    await ui.press('down', 'down', 'enter');
    await ui.waitFor(() => tested !== undefined, 'Test connection');
    assert.equal(endpointFromDraft(tested!).tokenCommand, 'get-token {email}');
    assert.equal(endpointFromDraft(tested!).oauthMechanism, 'XOAUTH2');
    assert.deepEqual(targetCredentialsFromDraft(tested!), {kind: 'oauth2'});
    assert.equal(tested!.testUser, 'alice@contoso.com');
  });
});
