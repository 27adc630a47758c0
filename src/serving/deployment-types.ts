/**
 * What a deployment workflow (workflows/deployment.ts), its activities and the CLI exchange. The
 * workflow imports only the types; the two workflow-type names are for clients.
 */
import type { AnalysisResult, AnalysisThresholds } from './deployment-analysis.js';
import type { RoutingPolicy } from './routing.js';

export type DeploymentStrategy = 'canary' | 'blue-green' | 'shadow' | 'ab';
export type DeploymentStatus = 'running' | 'promoted' | 'completed' | 'rolled_back' | 'failed';

export interface DeploymentInput {
  /** The deployment's id, which is also its workflow id. */
  deploymentId: string;
  model: string;
  /** The candidate: an approved version. */
  version: number;
  strategy: DeploymentStrategy;
  /** Canary traffic percentages; the last (100) is the switch (default 5, 25, 100). */
  steps?: number[];
  /** The alias that follows what serves; success moves it to the candidate (default `production`). */
  alias?: string;
  thresholds?: Partial<AnalysisThresholds>;
  analysis?: {
    /** How often an analysis waiting for traffic looks again (default 10 s). */
    pollSeconds?: number;
    /** How long a step may wait for `minRequests` per arm before the deployment rolls back (default 15 minutes). */
    maxWaitSeconds?: number;
    /** The least time a step runs before its verdict counts (default 30 s, or `abDurationSeconds` for A/B when longer). */
    minSeconds?: number;
  };
  /** Shadow: the share of requests the candidate also scores (default 100). */
  shadowPercent?: number;
  /** A/B: the candidate arm's share of traffic (default 50) and the least time the split runs. */
  abPercent?: number;
  abDurationSeconds?: number;
  /** Whether a passed deployment moves the alias to the candidate (default: yes for canary and blue-green, no for shadow and A/B). */
  promote?: boolean;
  startedBy: string;
  reason?: string;
}

export interface PlannedStep {
  name: string;
  routing: RoutingPolicy;
  /** The versions the analysis compares after this routing is set; null when the step is not analysed. */
  analyze: { candidate: number; baseline: number | null } | null;
}

export interface DeploymentPlan {
  deploymentId: string;
  model: string;
  candidate: number;
  stable: number | null;
  strategy: DeploymentStrategy;
  alias: string;
  steps: PlannedStep[];
  thresholds: AnalysisThresholds;
  pollSeconds: number;
  maxWaitSeconds: number;
  minSeconds: number;
  promote: boolean;
}

export interface RecordedAnalysis extends AnalysisResult {
  step: number;
  stepName: string;
  /** Seconds the step had run when the verdict was taken. */
  afterSeconds: number;
  at: string;
}

export interface DeploymentState {
  deploymentId: string;
  model: string;
  candidate: number;
  stable: number | null;
  strategy: DeploymentStrategy;
  status: DeploymentStatus;
  /** 0-based; the step in progress. */
  currentStep: number;
  steps: string[];
  routing: RoutingPolicy | null;
  /** The latest analysis, also while it waits for traffic. */
  lastAnalysis?: AnalysisResult & { step: number };
  analyses: RecordedAnalysis[];
  outcome?: string;
  rollbackReason?: string;
}

export interface DeploymentResult {
  deploymentId: string;
  model: string;
  candidate: number;
  stable: number | null;
  status: Exclude<DeploymentStatus, 'running'>;
  outcome: string;
  rollbackReason?: string;
  analyses: RecordedAnalysis[];
}

export interface RollbackRequest {
  reason: string;
  actor: string;
}

export const DEPLOYMENT_WORKFLOW = 'runDeployment';
export const MANUAL_ROLLBACK_WORKFLOW = 'rollbackModel';
