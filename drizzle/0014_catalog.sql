CREATE TABLE "catalog_datasets" (
	"name" text PRIMARY KEY NOT NULL,
	"kind" text NOT NULL,
	"description" text DEFAULT '' NOT NULL,
	"owner" text NOT NULL,
	"sensitivity" text NOT NULL,
	"tags" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"retention" text,
	"columns" jsonb NOT NULL,
	"edited" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"updated_by" text NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
