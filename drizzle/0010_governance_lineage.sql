CREATE TABLE "data_quality_results" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "data_quality_results_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"key" text NOT NULL,
	"dataset" text NOT NULL,
	"suite" text NOT NULL,
	"passed" boolean NOT NULL,
	"rows" bigint NOT NULL,
	"results" jsonb NOT NULL,
	"run_id" text,
	"checked_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "data_quality_results_key_unique" UNIQUE("key")
);
--> statement-breakpoint
CREATE TABLE "lineage_events" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "lineage_events_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"event_key" text NOT NULL,
	"run_id" text NOT NULL,
	"event_type" text NOT NULL,
	"event_time" timestamp with time zone NOT NULL,
	"job_namespace" text NOT NULL,
	"job_name" text NOT NULL,
	"inputs" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"outputs" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"event" jsonb NOT NULL,
	CONSTRAINT "lineage_events_key_unique" UNIQUE("event_key")
);
--> statement-breakpoint
CREATE INDEX "data_quality_results_dataset_idx" ON "data_quality_results" USING btree ("dataset","checked_at");--> statement-breakpoint
CREATE INDEX "lineage_events_run_idx" ON "lineage_events" USING btree ("run_id");--> statement-breakpoint
CREATE INDEX "lineage_events_job_idx" ON "lineage_events" USING btree ("job_name","event_time");