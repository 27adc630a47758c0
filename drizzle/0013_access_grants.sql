CREATE TABLE "access_grants" (
	"role" text NOT NULL,
	"permission" text NOT NULL,
	"resource" text NOT NULL,
	"granted_by" text NOT NULL,
	"granted_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "access_grants_role_permission_resource_pk" PRIMARY KEY("role","permission","resource")
);
