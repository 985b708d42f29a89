-- The change feed's commit-ordered counter: one row, locked by each writing transaction just before it commits.
INSERT INTO "change_sequence" ("id", "last_seq") VALUES (1, 0) ON CONFLICT DO NOTHING;
--> statement-breakpoint
-- The audit log is append-only: refuse UPDATE and DELETE at the database, whoever connects.
CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_log is append-only' USING ERRCODE = '42501';
END;
$$;
--> statement-breakpoint
CREATE TRIGGER audit_log_no_update_or_delete BEFORE UPDATE OR DELETE ON "audit_log"
  FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
--> statement-breakpoint
-- TRUNCATE fires no row trigger: guard it with a statement trigger.
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON "audit_log"
  FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();
