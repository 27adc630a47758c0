CREATE TABLE "model_versions" (
	"model_name" text NOT NULL,
	"version" integer NOT NULL,
	"artifact_uri" text NOT NULL,
	"artifact_sha256" text NOT NULL,
	"training_set_uri" text NOT NULL,
	"metrics" jsonb NOT NULL,
	"signature" jsonb NOT NULL,
	"run_id" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "model_versions_model_name_version_pk" PRIMARY KEY("model_name","version"),
	CONSTRAINT "model_versions_artifact_uq" UNIQUE("model_name","artifact_sha256")
);
