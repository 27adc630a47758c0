CREATE TABLE "step_cache" (
	"key" text PRIMARY KEY NOT NULL,
	"uses" text NOT NULL,
	"version" text NOT NULL,
	"output" jsonb NOT NULL,
	"run_id" text NOT NULL,
	"step" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
