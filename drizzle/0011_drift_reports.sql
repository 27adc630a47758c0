CREATE TABLE "drift_reports" (
	"id" text PRIMARY KEY NOT NULL,
	"model_name" text NOT NULL,
	"version" integer NOT NULL,
	"window_from" timestamp with time zone NOT NULL,
	"window_to" timestamp with time zone NOT NULL,
	"rows" integer NOT NULL,
	"enough" boolean NOT NULL,
	"dataset_drift" boolean,
	"prediction_drift" boolean,
	"decayed" boolean,
	"report" jsonb NOT NULL,
	"decision" text,
	"decision_details" jsonb,
	"run_id" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE INDEX "drift_reports_model_idx" ON "drift_reports" USING btree ("model_name","created_at");