CREATE TABLE "model_aliases" (
	"model_name" text NOT NULL,
	"alias" text NOT NULL,
	"version" integer NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "model_aliases_model_name_alias_pk" PRIMARY KEY("model_name","alias")
);
--> statement-breakpoint
CREATE TABLE "model_history" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "model_history_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"model_name" text NOT NULL,
	"version" integer NOT NULL,
	"kind" text NOT NULL,
	"alias" text,
	"from" text,
	"to" text,
	"actor" text NOT NULL,
	"reason" text NOT NULL,
	"workflow_id" text,
	"at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "model_versions" ADD COLUMN "algorithm" text;--> statement-breakpoint
ALTER TABLE "model_versions" ADD COLUMN "status" text DEFAULT 'registered' NOT NULL;--> statement-breakpoint
ALTER TABLE "model_aliases" ADD CONSTRAINT "model_aliases_version_fk" FOREIGN KEY ("model_name","version") REFERENCES "public"."model_versions"("model_name","version") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "model_history_model_idx" ON "model_history" USING btree ("model_name","id");--> statement-breakpoint
-- Versions registered before history existed get the event they would have had.
INSERT INTO "model_history" ("model_name", "version", "kind", "to", "actor", "reason", "workflow_id", "at")
SELECT "model_name", "version", 'registered', 'registered', 'steward', 'Registered by run ' || "run_id", "run_id", "created_at"
FROM "model_versions" ORDER BY "created_at", "model_name", "version";--> statement-breakpoint
-- History is evidence for audits: the database itself refuses to rewrite it.
CREATE FUNCTION "model_history_append_only"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'model_history is append-only: % is not allowed', TG_OP;
END
$$;--> statement-breakpoint
CREATE TRIGGER "model_history_append_only" BEFORE UPDATE OR DELETE ON "model_history"
FOR EACH ROW EXECUTE FUNCTION "model_history_append_only"();
