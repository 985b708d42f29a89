CREATE TABLE "record_claims" (
	"namespace" text NOT NULL,
	"key" text NOT NULL,
	"collection" text NOT NULL,
	"record_id" uuid NOT NULL,
	CONSTRAINT "record_claims_pkey" PRIMARY KEY("namespace","key")
);
--> statement-breakpoint
ALTER TABLE "audit_log" ADD COLUMN "moved_from" varchar(6);--> statement-breakpoint
ALTER TABLE "changes" ADD COLUMN "moved_to" varchar(6);--> statement-breakpoint
CREATE INDEX "record_claims_record_idx" ON "record_claims" USING btree ("record_id");--> statement-breakpoint
ALTER TABLE "credentials" ADD CONSTRAINT "credentials_officer_id_officers_id_fk" FOREIGN KEY ("officer_id") REFERENCES "public"."officers"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "org_units" ADD CONSTRAINT "org_units_parent_id_org_units_id_fk" FOREIGN KEY ("parent_id") REFERENCES "public"."org_units"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "officers" ADD CONSTRAINT "officers_org_unit_id_org_units_id_fk" FOREIGN KEY ("org_unit_id") REFERENCES "public"."org_units"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "audit_log_moved_from_idx" ON "audit_log" USING btree ("moved_from","id") WHERE "audit_log"."moved_from" is not null;