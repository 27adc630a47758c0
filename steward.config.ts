// At the root of Steward's repository the project is its worked example, flight delays on real 2001
// flights (examples/flight-delay): `npm start`, `steward dev` and `steward run train-flight-delay`
// work here as the README shows. A team's project has its own steward.config.ts (`steward init`).
export { default } from './examples/flight-delay/steward.config.js';
