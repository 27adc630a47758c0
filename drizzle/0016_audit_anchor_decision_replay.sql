CREATE TABLE "audit_head" (
	"id" integer PRIMARY KEY NOT NULL,
	"seq" bigint NOT NULL,
	"hash" text NOT NULL,
	"at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
ALTER TABLE "audit_log" ADD COLUMN "hash_version" smallint DEFAULT 1 NOT NULL;--> statement-breakpoint
ALTER TABLE "decision_codes" ADD COLUMN "used_by" text;--> statement-breakpoint
ALTER TABLE "web_sessions" ADD COLUMN "token_id" text;--> statement-breakpoint
ALTER TABLE "web_sessions" ADD CONSTRAINT "web_sessions_token_id_api_tokens_id_fk" FOREIGN KEY ("token_id") REFERENCES "public"."api_tokens"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
-- The head starts at the chain's current last entry (none on a new database).
INSERT INTO "audit_head" ("id", "seq", "hash", "at") SELECT 1, "seq", "hash", "at" FROM "audit_log" ORDER BY "seq" DESC LIMIT 1;--> statement-breakpoint
-- The head only moves forward and is never removed: rolling it back to hide a truncation needs the
-- same trigger-disabling privileges as editing the log, and `steward audit checkpoint` copies it
-- out of the database for the case where someone had them.
CREATE FUNCTION "audit_head_forward_only"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    RAISE EXCEPTION 'audit_head is never deleted';
  END IF;
  IF NEW."seq" <= OLD."seq" THEN
    RAISE EXCEPTION 'audit_head only moves forward (from % to %)', OLD."seq", NEW."seq";
  END IF;
  RETURN NEW;
END
$$;--> statement-breakpoint
CREATE TRIGGER "audit_head_forward_only" BEFORE UPDATE OR DELETE ON "audit_head"
FOR EACH ROW EXECUTE FUNCTION "audit_head_forward_only"();
