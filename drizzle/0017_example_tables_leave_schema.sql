-- The worked example's tables leave Steward's schema: the example creates its own (examples/flight-delay/data/schema.ts).
-- Cached step results may name rows these tables held: the step cache is only a cache, so it is emptied and steps recompute.
DROP TABLE "airport_delays" CASCADE;--> statement-breakpoint
DROP TABLE "delay_summaries" CASCADE;--> statement-breakpoint
DROP TABLE "raw_flights" CASCADE;--> statement-breakpoint
DELETE FROM "step_cache";
