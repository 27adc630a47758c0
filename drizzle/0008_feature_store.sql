CREATE TABLE "feature_definitions" (
	"kind" text NOT NULL,
	"name" text NOT NULL,
	"version" integer NOT NULL,
	"hash" text NOT NULL,
	"spec" jsonb NOT NULL,
	"applied_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "feature_definitions_kind_name_version_pk" PRIMARY KEY("kind","name","version")
);
--> statement-breakpoint
CREATE TABLE "feature_ingestion_batches" (
	"ingestion_id" integer NOT NULL,
	"batch" integer NOT NULL,
	"row_start" bigint NOT NULL,
	"rows" integer NOT NULL,
	"hash" text NOT NULL,
	CONSTRAINT "feature_ingestion_batches_ingestion_id_batch_pk" PRIMARY KEY("ingestion_id","batch")
);
--> statement-breakpoint
CREATE TABLE "feature_ingestions" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "feature_ingestions_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"key" text NOT NULL,
	"view" text NOT NULL,
	"source" text NOT NULL,
	"content_hash" text NOT NULL,
	"status" text DEFAULT 'running' NOT NULL,
	"rows" bigint DEFAULT 0 NOT NULL,
	"batches" integer DEFAULT 0 NOT NULL,
	"commit_seq" bigint,
	"report" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"error" text,
	"started_at" timestamp with time zone DEFAULT now() NOT NULL,
	"completed_at" timestamp with time zone,
	CONSTRAINT "feature_ingestions_key_uq" UNIQUE("key")
);
--> statement-breakpoint
CREATE TABLE "feature_materializations" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "feature_materializations_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"view" text NOT NULL,
	"mode" text NOT NULL,
	"status" text DEFAULT 'running' NOT NULL,
	"from_seq" bigint NOT NULL,
	"to_seq" bigint NOT NULL,
	"rows_read" bigint DEFAULT 0 NOT NULL,
	"entities_written" integer DEFAULT 0 NOT NULL,
	"error" text,
	"started_at" timestamp with time zone DEFAULT now() NOT NULL,
	"finished_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "feature_online" (
	"view" text NOT NULL,
	"entity_key" text NOT NULL,
	"event_at" timestamp with time zone NOT NULL,
	"created_at" timestamp with time zone,
	"values" jsonb NOT NULL,
	"materialization_id" integer NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "feature_online_view_entity_key_pk" PRIMARY KEY("view","entity_key")
);
--> statement-breakpoint
CREATE TABLE "feature_statistics" (
	"materialization_id" integer NOT NULL,
	"view" text NOT NULL,
	"feature" text NOT NULL,
	"summary" jsonb NOT NULL,
	"sketch" jsonb NOT NULL,
	"computed_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "feature_statistics_materialization_id_feature_pk" PRIMARY KEY("materialization_id","feature")
);
--> statement-breakpoint
ALTER TABLE "feature_ingestion_batches" ADD CONSTRAINT "feature_ingestion_batches_ingestion_id_feature_ingestions_id_fk" FOREIGN KEY ("ingestion_id") REFERENCES "public"."feature_ingestions"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "feature_statistics" ADD CONSTRAINT "feature_statistics_materialization_id_feature_materializations_id_fk" FOREIGN KEY ("materialization_id") REFERENCES "public"."feature_materializations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "feature_ingestions_view_idx" ON "feature_ingestions" USING btree ("view","commit_seq");--> statement-breakpoint
CREATE INDEX "feature_materializations_view_idx" ON "feature_materializations" USING btree ("view","id");--> statement-breakpoint
CREATE INDEX "feature_statistics_view_idx" ON "feature_statistics" USING btree ("view","materialization_id");