CREATE TABLE "approved_purposes" (
	"approval_id" text PRIMARY KEY NOT NULL,
	"model_name" text NOT NULL,
	"purpose" text NOT NULL,
	"features" jsonb NOT NULL,
	"approved_by" jsonb NOT NULL,
	"approved_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE INDEX "approved_purposes_model_idx" ON "approved_purposes" USING btree ("model_name");