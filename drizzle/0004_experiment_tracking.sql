CREATE TABLE "experiment_run_metric_steps" (
	"run_id" text NOT NULL,
	"key" text NOT NULL,
	"step" integer NOT NULL,
	"value" double precision NOT NULL,
	"logged_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "experiment_run_metric_steps_run_id_key_step_pk" PRIMARY KEY("run_id","key","step")
);
--> statement-breakpoint
CREATE TABLE "experiment_runs" (
	"id" text PRIMARY KEY NOT NULL,
	"key" text,
	"experiment" text NOT NULL,
	"status" text DEFAULT 'running' NOT NULL,
	"params" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"metrics" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"tags" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"artifacts" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"git_commit" text,
	"git_dirty" boolean,
	"training_set_uri" text,
	"training_set_sha256" text,
	"ingestion_id" text,
	"environment" jsonb NOT NULL,
	"workflow_id" text,
	"workflow_run_id" text,
	"error" text,
	"started_at" timestamp with time zone DEFAULT now() NOT NULL,
	"ended_at" timestamp with time zone,
	CONSTRAINT "experiment_runs_key_uq" UNIQUE("key")
);
--> statement-breakpoint
CREATE TABLE "experiments" (
	"name" text PRIMARY KEY NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "experiment_run_metric_steps" ADD CONSTRAINT "experiment_run_metric_steps_run_id_experiment_runs_id_fk" FOREIGN KEY ("run_id") REFERENCES "public"."experiment_runs"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "experiment_runs" ADD CONSTRAINT "experiment_runs_experiment_experiments_name_fk" FOREIGN KEY ("experiment") REFERENCES "public"."experiments"("name") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "experiment_runs_experiment_idx" ON "experiment_runs" USING btree ("experiment","started_at");--> statement-breakpoint
CREATE INDEX "experiment_runs_workflow_idx" ON "experiment_runs" USING btree ("workflow_id");--> statement-breakpoint
CREATE INDEX "experiment_runs_ingestion_idx" ON "experiment_runs" USING btree ("ingestion_id");