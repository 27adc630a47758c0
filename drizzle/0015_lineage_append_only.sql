-- Lineage events are evidence of what produced what, like the audit log: the database itself
-- refuses to rewrite or delete one. Inserts that meet an existing event_key (ON CONFLICT DO
-- NOTHING, a retried step's event) change nothing and are unaffected.
CREATE FUNCTION "lineage_events_append_only"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'lineage_events is append-only: % is not allowed', TG_OP;
END
$$;--> statement-breakpoint
CREATE TRIGGER "lineage_events_append_only" BEFORE UPDATE OR DELETE ON "lineage_events"
FOR EACH ROW EXECUTE FUNCTION "lineage_events_append_only"();
