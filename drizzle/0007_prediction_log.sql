CREATE TABLE "prediction_ground_truth" (
	"request_id" text NOT NULL,
	"row_index" integer DEFAULT 0 NOT NULL,
	"value" double precision NOT NULL,
	"recorded_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "prediction_ground_truth_request_id_row_index_pk" PRIMARY KEY("request_id","row_index")
);
--> statement-breakpoint
CREATE TABLE "prediction_log" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "prediction_log_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"request_id" text NOT NULL,
	"model_name" text NOT NULL,
	"version" integer NOT NULL,
	"arm" text NOT NULL,
	"shadow" boolean DEFAULT false NOT NULL,
	"rows" integer NOT NULL,
	"inputs" jsonb NOT NULL,
	"outputs" jsonb,
	"error" text,
	"latency_ms" double precision NOT NULL,
	"at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE INDEX "prediction_log_request_idx" ON "prediction_log" USING btree ("request_id");--> statement-breakpoint
CREATE INDEX "prediction_log_model_idx" ON "prediction_log" USING btree ("model_name","version","at");