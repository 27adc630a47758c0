CREATE TABLE "api_tokens" (
	"id" text PRIMARY KEY NOT NULL,
	"principal" text NOT NULL,
	"token_hash" text NOT NULL,
	"label" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"last_used_at" timestamp with time zone,
	"revoked_at" timestamp with time zone,
	CONSTRAINT "api_tokens_hash_unique" UNIQUE("token_hash")
);
--> statement-breakpoint
CREATE TABLE "approvals" (
	"id" text PRIMARY KEY NOT NULL,
	"workflow_id" text NOT NULL,
	"run_id" text NOT NULL,
	"gate" text NOT NULL,
	"pipeline" text NOT NULL,
	"subject" jsonb NOT NULL,
	"policy" jsonb NOT NULL,
	"required" jsonb NOT NULL,
	"authors" jsonb NOT NULL,
	"model_name" text,
	"model_version" integer,
	"status" text NOT NULL,
	"opened_at" timestamp with time zone NOT NULL,
	"deadline" timestamp with time zone NOT NULL,
	"closed_at" timestamp with time zone,
	"outcome" jsonb,
	CONSTRAINT "approvals_gate_unique" UNIQUE("workflow_id","gate")
);
--> statement-breakpoint
CREATE TABLE "audit_log" (
	"seq" bigint PRIMARY KEY NOT NULL,
	"at" timestamp with time zone NOT NULL,
	"actor" text NOT NULL,
	"action" text NOT NULL,
	"subject" text NOT NULL,
	"details" jsonb NOT NULL,
	"prev_hash" text NOT NULL,
	"hash" text NOT NULL,
	"idempotency_key" text,
	CONSTRAINT "audit_log_idempotency_unique" UNIQUE("idempotency_key")
);
--> statement-breakpoint
CREATE TABLE "decision_codes" (
	"code_hash" text PRIMARY KEY NOT NULL,
	"approval_id" text NOT NULL,
	"principal" text NOT NULL,
	"role" text NOT NULL,
	"issued_at" timestamp with time zone DEFAULT now() NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"used_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "principals" (
	"name" text PRIMARY KEY NOT NULL,
	"display_name" text,
	"roles" jsonb NOT NULL,
	"disabled" boolean DEFAULT false NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "web_sessions" (
	"id_hash" text PRIMARY KEY NOT NULL,
	"principal" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"expires_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
ALTER TABLE "api_tokens" ADD CONSTRAINT "api_tokens_principal_principals_name_fk" FOREIGN KEY ("principal") REFERENCES "public"."principals"("name") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "decision_codes" ADD CONSTRAINT "decision_codes_approval_id_approvals_id_fk" FOREIGN KEY ("approval_id") REFERENCES "public"."approvals"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "decision_codes" ADD CONSTRAINT "decision_codes_principal_principals_name_fk" FOREIGN KEY ("principal") REFERENCES "public"."principals"("name") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "web_sessions" ADD CONSTRAINT "web_sessions_principal_principals_name_fk" FOREIGN KEY ("principal") REFERENCES "public"."principals"("name") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "approvals_status_idx" ON "approvals" USING btree ("status","opened_at");--> statement-breakpoint
CREATE INDEX "audit_log_subject_idx" ON "audit_log" USING btree ("subject","seq");--> statement-breakpoint
-- The audit trail is evidence: the database itself refuses to rewrite it (the hash chain also
-- detects edits made by someone who disabled this trigger).
CREATE FUNCTION "audit_log_append_only"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_log is append-only: % is not allowed', TG_OP;
END
$$;--> statement-breakpoint
CREATE TRIGGER "audit_log_append_only" BEFORE UPDATE OR DELETE ON "audit_log"
FOR EACH ROW EXECUTE FUNCTION "audit_log_append_only"();
