// Every feature definition this deployment registers: `steward apply` plans and applies them, `steward materialize` and the activities read them.
import type { Definition } from '../../../src/features/definitions.js';
import { flightFeatureDefinitions } from './flights.js';

export const featureDefinitions: readonly Definition[] = [...flightFeatureDefinitions];
