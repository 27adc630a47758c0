/**
 * Compares a freshly trained challenger with the champion on the same recent labelled rows
 * (examples/flight-delay/pipelines/challenge-flight-delay.ts): both scored again on the monitored window, which neither
 * trained on. The comparison lands in the audit trail either way; the step fails (and the champion
 * stays) unless the challenger's ROC AUC is higher by the margin. Not cached: the champion moves.
 */
import { z } from 'zod';
import { ValidationError } from '../../../src/errors.js';
import { appendAuditTx } from '../../../src/audit/index.js';
import { compareOnWindow } from '../../../src/monitoring/challenge.js';
import { defineStep } from '../../../src/pipeline/step.js';
import { instant } from '../../../pipelines/steps/monitor-drift.js';

export const compareChallenger = defineStep({
  name: 'compareFlightChallenger',
  version: '1',
  description: 'Compare a challenger with the champion on the same recent labelled rows; stop unless it is better by the margin',
  input: z.object({
    modelName: z.string().min(1),
    /** The challenger's version. */
    challenger: z.number().int().positive(),
    windowFrom: z.string(),
    windowTo: z.string(),
    /** How much higher the challenger's ROC AUC must be than the champion's. */
    margin: z.number(),
    minLabelledRows: z.number().int(),
    /** The drift report whose decision started the challenge ('' when none did). */
    reportId: z.string(),
  }),
  output: z.object({
    modelName: z.string(),
    /** The challenger's version (what the release steps take). */
    version: z.number().int(),
    championVersion: z.number().int(),
    rows: z.number().int(),
    championRocAuc: z.number(),
    challengerRocAuc: z.number(),
    improvement: z.number(),
  }),
  startToCloseTimeout: '30 minutes',
  cache: false,
  async run(input, ctx) {
    const result = await compareOnWindow(ctx.db, ctx.artifacts, {
      model: input.modelName,
      champion: 'champion',
      challenger: input.challenger,
      from: instant(input.windowFrom, 'windowFrom'),
      to: instant(input.windowTo, 'windowTo'),
      minLabelledRows: input.minLabelledRows,
    });
    // The same training data trains the same artifact, which the registry answers with the version it already has.
    const same = result.challenger.version === result.champion.version;
    const better = !same && result.improvement >= input.margin;
    const details = { ...result, margin: input.margin, better, reportId: input.reportId };
    await ctx.db.transaction((tx) =>
      appendAuditTx(tx, {
        actor: 'steward',
        action: better ? 'monitoring.challenger_better' : 'monitoring.challenger_not_better',
        subject: `model:${input.modelName}@${input.challenger}`,
        details,
        idempotencyKey: `${ctx.idempotencyKey}:compare`,
      }),
    );
    if (same) {
      throw new ValidationError(
        `The retrain reproduced the champion v${result.champion.version} itself: it was trained on the same flights, since none departed between the champion's training and this window (${input.windowFrom}). The champion stays.`,
        details,
      );
    }
    if (!better) {
      throw new ValidationError(
        `Challenger v${result.challenger.version} is not better by the margin: ROC AUC ${result.challenger.rocAuc.toFixed(4)} vs champion v${result.champion.version}'s ${result.champion.rocAuc.toFixed(4)} on ${result.rows} labelled rows (improvement ${result.improvement.toFixed(4)} < margin ${input.margin}). The champion stays.`,
        details,
      );
    }
    return {
      modelName: input.modelName,
      version: result.challenger.version,
      championVersion: result.champion.version,
      rows: result.rows,
      championRocAuc: result.champion.rocAuc,
      challengerRocAuc: result.challenger.rocAuc,
      improvement: result.improvement,
    };
  },
});
