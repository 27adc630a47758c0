CREATE TABLE "airport_delays" (
	"summary_id" text NOT NULL,
	"origin" text NOT NULL,
	"flights" integer NOT NULL,
	"mean_delay_minutes" double precision NOT NULL,
	"delayed_share" double precision NOT NULL,
	CONSTRAINT "airport_delays_summary_id_origin_pk" PRIMARY KEY("summary_id","origin")
);
--> statement-breakpoint
CREATE TABLE "delay_summaries" (
	"id" text PRIMARY KEY NOT NULL,
	"ingestion_id" text NOT NULL,
	"delay_threshold_minutes" integer NOT NULL,
	"flights" bigint NOT NULL,
	"airports" integer NOT NULL,
	"delayed_share" double precision NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "idempotency_keys" (
	"key" text PRIMARY KEY NOT NULL,
	"scope" text NOT NULL,
	"result" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "ingestions" (
	"id" text PRIMARY KEY NOT NULL,
	"dataset" text NOT NULL,
	"source" text NOT NULL,
	"content_hash" text NOT NULL,
	"rows" integer NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "raw_flights" (
	"ingestion_id" text NOT NULL,
	"row_number" integer NOT NULL,
	"departed_at" timestamp with time zone NOT NULL,
	"delay_minutes" integer NOT NULL,
	"distance_miles" integer NOT NULL,
	"origin" text NOT NULL,
	"destination" text NOT NULL,
	CONSTRAINT "raw_flights_ingestion_id_row_number_pk" PRIMARY KEY("ingestion_id","row_number")
);
--> statement-breakpoint
ALTER TABLE "airport_delays" ADD CONSTRAINT "airport_delays_summary_id_delay_summaries_id_fk" FOREIGN KEY ("summary_id") REFERENCES "public"."delay_summaries"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "delay_summaries" ADD CONSTRAINT "delay_summaries_ingestion_id_ingestions_id_fk" FOREIGN KEY ("ingestion_id") REFERENCES "public"."ingestions"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "raw_flights" ADD CONSTRAINT "raw_flights_ingestion_id_ingestions_id_fk" FOREIGN KEY ("ingestion_id") REFERENCES "public"."ingestions"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "raw_flights_origin_idx" ON "raw_flights" USING btree ("ingestion_id","origin");