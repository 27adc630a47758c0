ALTER TABLE "model_versions" ADD COLUMN "description" text;--> statement-breakpoint
ALTER TABLE "model_versions" ADD COLUMN "metadata" jsonb DEFAULT '{}'::jsonb NOT NULL;