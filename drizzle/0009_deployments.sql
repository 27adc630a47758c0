CREATE TABLE "deployments" (
	"id" text PRIMARY KEY NOT NULL,
	"model_name" text NOT NULL,
	"candidate_version" integer NOT NULL,
	"stable_version" integer,
	"strategy" text NOT NULL,
	"alias" text NOT NULL,
	"plan" jsonb NOT NULL,
	"status" text NOT NULL,
	"current_step" integer DEFAULT 0 NOT NULL,
	"routing" jsonb,
	"analyses" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"outcome" text,
	"rollback_reason" text,
	"started_by" text NOT NULL,
	"workflow_id" text NOT NULL,
	"started_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"finished_at" timestamp with time zone
);
--> statement-breakpoint
CREATE INDEX "deployments_model_idx" ON "deployments" USING btree ("model_name","started_at");--> statement-breakpoint
-- One deployment at a time per model: a second start while one runs is refused (src/serving/deployments.ts).
CREATE UNIQUE INDEX "deployments_one_running_uq" ON "deployments" ("model_name") WHERE "status" = 'running';
