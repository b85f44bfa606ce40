// The connection test, live: each step (DNS, TCP, TLS, greeting, capabilities, login, folders)
// appears as it runs with its duration; a failure shows the diagnosis and what to do next; the
// capabilities that matter for a migration are listed with why they matter.

import React, {useCallback, useEffect, useRef, useState} from 'react';
import {Box, Text} from 'ink';
import type {ConnectionTestResult, StepResult} from '../../imap/connection-test.js';
import type {EndpointConfig, LoginIdentity} from '../../imap/endpoint.js';
import {describeIdentity} from '../../imap/endpoint.js';
import type {EndpointRole} from '../../imap/imap-error.js';
import {formatError, MigrationError} from '../../imap/imap-error.js';
import {tint, useDisplay} from '../display-options.js';
import {fit, singleLine} from '../format/text-fit.js';
import type {ActionId} from '../keymap.js';
import {useKeys} from '../use-keys.js';
import type {UiServices} from '../ui-services.js';
import {isMovement, scrollBy} from '../view-state/list-window.js';
import {ConfirmDialog, type Question} from './ConfirmDialog.js';
import {Footer} from './Footer.js';

interface Line {
  text: string;
  color?: string;
  bold?: boolean;
}

/** Merge a step report into the list: a step reported again (running, then ok) replaces itself. */
export function mergeStep(steps: readonly StepResult[], step: StepResult): StepResult[] {
  const index = steps.findIndex((candidate) => candidate.step === step.step);
  if (index < 0) return [...steps, step];
  const next = [...steps];
  next[index] = step;
  return next;
}

export function testLines(
  steps: readonly StepResult[],
  result: ConnectionTestResult | undefined,
  failure: string | undefined,
  glyphs: {ok: string; failed: string; running: string; skipped: string; arrow: string},
): Line[] {
  const lines: Line[] = [];
  const marker = {ok: glyphs.ok, failed: glyphs.failed, running: glyphs.running, skipped: glyphs.skipped};
  const color = {ok: 'green', failed: 'red', running: 'cyan', skipped: 'gray'};
  const labelWidth = Math.min(34, Math.max(16, ...steps.map((step) => step.label.length)));
  for (const step of steps) {
    const ms = step.status === 'running' ? '' : `${step.ms} ms`;
    lines.push({text: `${marker[step.status].padEnd(2)} ${step.label.padEnd(labelWidth)} ${ms.padStart(8)}  ${singleLine(step.detail ?? '')}`, color: color[step.status]});
    if (step.status === 'failed') {
      if (step.diagnosis) lines.push({text: `     ${singleLine(step.diagnosis)}`, color: 'red', bold: true});
      if (step.serverText) lines.push({text: `     server said: ${singleLine(step.serverText)}`});
      if (step.hint) lines.push({text: `     ${glyphs.arrow} ${singleLine(step.hint)}`, bold: true});
    }
  }
  if (failure) lines.push({text: failure, color: 'red', bold: true});
  if (result) {
    lines.push({text: ''});
    lines.push({
      text: result.ok
        ? `${glyphs.ok} The server answers${result.folderCount !== undefined ? ` and lists ${result.folderCount} folders` : ''}. Enter continues.`
        : `${glyphs.failed} The test failed. Fix the endpoint (e) and test again (t), or continue anyway (Enter).`,
      color: result.ok ? 'green' : 'red',
      bold: true,
    });
    if (result.greeting) lines.push({text: `greeting: ${singleLine(result.greeting)}`, color: 'gray'});
    if (result.capabilities.length > 0) {
      lines.push({text: ''});
      lines.push({text: 'Capabilities that matter for a migration:', bold: true});
      for (const capability of result.capabilities) {
        const value = capability.value ? `=${capability.value}` : '';
        lines.push({
          text: `${capability.present ? glyphs.ok : '  '} ${`${capability.name}${value}`.padEnd(20)} ${capability.present ? '' : 'missing: '}${capability.why}`,
          ...(capability.present ? {} : {color: 'gray'}),
        });
      }
    }
  }
  return lines;
}

export interface ConnectionTestProps {
  role: EndpointRole;
  endpoint: EndpointConfig;
  identity: LoginIdentity | undefined;
  services: Pick<UiServices, 'testConnection'>;
  step: string;
  width: number;
  height: number;
  isActive: boolean;
  onContinue(result: ConnectionTestResult | undefined): void;
  onEdit(): void;
  onHelp(): void;
  onInterrupt(): void;
}

export function ConnectionTest(props: ConnectionTestProps): React.JSX.Element {
  const {role, endpoint, identity, services, width, height} = props;
  const display = useDisplay();
  const {glyphs} = display;
  const [run, setRun] = useState(0);
  const [steps, setSteps] = useState<StepResult[]>([]);
  const [result, setResult] = useState<ConnectionTestResult | undefined>();
  const [failure, setFailure] = useState<string | undefined>();
  const [question, setQuestion] = useState<Question | undefined>();
  const [scrollTop, setScrollTop] = useState(0);
  const abort = useRef<AbortController | undefined>(undefined);

  useEffect(() => {
    const controller = new AbortController();
    abort.current = controller;
    let live = true;
    setSteps([]);
    setResult(undefined);
    setFailure(undefined);
    services
      .testConnection(endpoint, identity, {
        role,
        signal: controller.signal,
        onStep: (step) => {
          if (live) setSteps((current) => mergeStep(current, {...step}));
        },
      })
      .then(
        (finished) => {
          if (!live) return;
          setSteps(finished.steps);
          setResult(finished);
        },
        (error: unknown) => {
          if (live) setFailure(error instanceof MigrationError ? formatError(error) : `The test stopped: ${String(error)}`);
        },
      );
    return () => {
      live = false;
      controller.abort();
    };
  }, [run, endpoint, identity, role, services]);

  const lines = testLines(steps, result, failure, glyphs);
  const bodyHeight = Math.max(1, height - 4);
  const top = Math.min(scrollTop, Math.max(0, lines.length - bodyHeight));
  const finished = result !== undefined || failure !== undefined;

  const onAction = useCallback(
    (action: ActionId) => {
      if (isMovement(action)) {
        setScrollTop(scrollBy(top, action, lines.length, bodyHeight));
        return;
      }
      switch (action) {
        case 'testContinue':
          if (!finished) return;
          if (result?.ok) props.onContinue(result);
          else setQuestion({text: `The ${role} test did not pass. Continue anyway?`, onYes: () => props.onContinue(result)});
          return;
        case 'retest':
          setRun((value) => value + 1);
          return;
        case 'testEdit':
          abort.current?.abort();
          props.onEdit();
          return;
        case 'help':
          props.onHelp();
          return;
        case 'interrupt':
          abort.current?.abort();
          props.onInterrupt();
          return;
        default:
          return;
      }
    },
    [finished, result, role, props, top, lines.length, bodyHeight],
  );
  useKeys('connection-test', onAction, {isActive: props.isActive && !question});
  const onConfirm = useCallback(
    (action: ActionId) => {
      if (action === 'confirmYes' && question) {
        setQuestion(undefined);
        question.onYes();
      } else if (action === 'confirmNo' || action === 'interrupt') setQuestion(undefined);
    },
    [question],
  );
  useKeys('confirm', onConfirm, {isActive: props.isActive && question !== undefined});

  const who = identity ? ` as ${describeIdentity(identity)}` : ' (no login: no test user given)';
  return (
    <Box flexDirection="column" height={height} flexShrink={0}>
      <Text wrap="truncate" bold inverse>
        {fit(`${props.step}  Testing the ${role}: ${endpoint.host}:${endpoint.port} ${endpoint.security}${who}`, width, glyphs.ellipsis)}
      </Text>
      <Box flexDirection="column" height={bodyHeight} flexShrink={0}>
        {lines.slice(top, top + bodyHeight).map((line, index) => (
          <Text key={top + index} wrap="truncate" bold={line.bold ?? false} color={tint(display, line.color)}>
            {fit(line.text, width, glyphs.ellipsis) || ' '}
          </Text>
        ))}
      </Box>
      <Text wrap="truncate" dimColor={display.color}>
        {fit(finished ? (lines.length > bodyHeight ? `lines ${top + 1}-${Math.min(lines.length, top + bodyHeight)} of ${lines.length} (j/k scroll)` : '') : `testing${glyphs.ellipsis}`, width, glyphs.ellipsis)}
      </Text>
      {question ? <ConfirmDialog question={question} width={width} /> : <Footer screen="connection-test" width={width} />}
    </Box>
  );
}
