CREATE TABLE "cases" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"region_code" varchar(6) NOT NULL,
	"external_id" varchar(64),
	"version" integer DEFAULT 1 NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"deleted_at" timestamp (3) with time zone,
	"case_number" text NOT NULL,
	"title" text NOT NULL,
	"category" text NOT NULL,
	"source" text NOT NULL,
	"org_unit_id" uuid NOT NULL,
	"handling_officer_ids" uuid[] NOT NULL,
	"filed_on" date NOT NULL,
	"stage" text NOT NULL,
	"major" boolean NOT NULL,
	"decided_on" date,
	"penalties" text[],
	"fine_fen" bigint,
	"confiscation_fen" bigint,
	"executed_on" date,
	"closed_on" date,
	"transferred_to" text,
	"stage_history" jsonb NOT NULL,
	"legal_reviewed" boolean NOT NULL,
	"heaviest_penalty" text
);
--> statement-breakpoint
ALTER TABLE "cases" ADD CONSTRAINT "cases_org_unit_id_org_units_id_fk" FOREIGN KEY ("org_unit_id") REFERENCES "public"."org_units"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "cases_external_key" ON "cases" USING btree ("region_code","external_id") WHERE "cases"."deleted_at" is null;--> statement-breakpoint
CREATE INDEX "cases_region_idx" ON "cases" USING btree ("region_code","id");--> statement-breakpoint
CREATE INDEX "cases_org_unit_idx" ON "cases" USING btree ("org_unit_id");--> statement-breakpoint
CREATE INDEX "cases_handlers_idx" ON "cases" USING gin ("handling_officer_ids");--> statement-breakpoint
CREATE UNIQUE INDEX "cases_number_key" ON "cases" USING btree ((region_code || ':' || case_number)) WHERE "cases"."deleted_at" is null;--> statement-breakpoint
CREATE INDEX "cases_filed_on_idx" ON "cases" USING btree ("filed_on") WHERE "cases"."deleted_at" is null;--> statement-breakpoint
CREATE INDEX "cases_decided_on_idx" ON "cases" USING btree ("decided_on") WHERE "cases"."deleted_at" is null and "cases"."decided_on" is not null;--> statement-breakpoint
CREATE INDEX "cases_closed_on_idx" ON "cases" USING btree ("closed_on") WHERE "cases"."deleted_at" is null and "cases"."closed_on" is not null;--> statement-breakpoint
CREATE INDEX "cases_pending_idx" ON "cases" USING btree ("filed_on","id") WHERE "cases"."deleted_at" is null and "cases"."stage" in ('filed', 'investigating', 'legal_review', 'notified');