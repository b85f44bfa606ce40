// Values the setup panels start with, e.g. from `mailferry demo`, which knows the loopback
// servers and the sample CSV it created. Anything left out starts empty or at its default.

import type {BatchSettings} from '../engine/batch-model.js';
import type {EndpointPrefill} from './view-state/endpoint-draft.js';

export interface UiPrefill {
  source?: EndpointPrefill;
  target?: EndpointPrefill;
  csvPath?: string;
  batchName?: string;
  settings?: Partial<BatchSettings>;
  /** Go straight to the setup even when batches exist. */
  startWithSetup?: boolean;
}

export type {EndpointPrefill} from './view-state/endpoint-draft.js';
