/**
 * Artifact storage: content-addressed bytes (training sets, models, reference profiles, scores),
 * stored under their sha256 and verified on every read. Every service that keeps or reads an
 * artifact imports it from here; it depends on nothing above the ground (errors), so the feature
 * store, the trainers and the registry can all sit on it.
 */
export { LocalArtifactStore, sha256Hex, type Artifact, type ArtifactStore } from './store.js';
