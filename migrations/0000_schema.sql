CREATE TABLE "credentials" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"region_code" varchar(6) NOT NULL,
	"external_id" varchar(64),
	"version" integer DEFAULT 1 NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"deleted_at" timestamp (3) with time zone,
	"officer_id" uuid NOT NULL,
	"credential_number" text NOT NULL,
	"kind" text NOT NULL,
	"issuing_authority" text NOT NULL,
	"issued_on" date NOT NULL,
	"expires_on" date NOT NULL,
	"status" text NOT NULL
);
--> statement-breakpoint
CREATE TABLE "audit_log" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"sub" text NOT NULL,
	"client_id" text,
	"caller_region" varchar(6) NOT NULL,
	"request_id" text,
	"collection" text NOT NULL,
	"record_id" uuid NOT NULL,
	"region_code" varchar(6) NOT NULL,
	"op" text NOT NULL,
	"version" integer
);
--> statement-breakpoint
CREATE TABLE "change_sequence" (
	"id" integer PRIMARY KEY NOT NULL,
	"last_seq" bigint NOT NULL,
	CONSTRAINT "change_sequence_single_row" CHECK ("change_sequence"."id" = 1)
);
--> statement-breakpoint
CREATE TABLE "changes" (
	"seq" bigint PRIMARY KEY NOT NULL,
	"collection" text NOT NULL,
	"record_id" uuid NOT NULL,
	"external_id" varchar(64),
	"region_code" varchar(6) NOT NULL,
	"op" text NOT NULL,
	"version" integer NOT NULL,
	"changed_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"record" jsonb
);
--> statement-breakpoint
CREATE TABLE "org_units" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"region_code" varchar(6) NOT NULL,
	"external_id" varchar(64),
	"version" integer DEFAULT 1 NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"deleted_at" timestamp (3) with time zone,
	"name" text NOT NULL,
	"level" text NOT NULL,
	"parent_id" uuid,
	"unified_social_credit_code" text
);
--> statement-breakpoint
CREATE TABLE "officers" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"region_code" varchar(6) NOT NULL,
	"external_id" varchar(64),
	"version" integer DEFAULT 1 NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"deleted_at" timestamp (3) with time zone,
	"name" text NOT NULL,
	"gender" text NOT NULL,
	"id_card_number_cipher" text NOT NULL,
	"id_card_number_hash" text NOT NULL,
	"birth_date" date NOT NULL,
	"ethnicity" text,
	"political_status" text,
	"education" text,
	"phone_cipher" text,
	"phone_hash" text,
	"org_unit_id" uuid NOT NULL,
	"position" text,
	"rank" text,
	"cadre_level" text NOT NULL,
	"staffing_type" text NOT NULL,
	"hire_date" date,
	"employment_status" text NOT NULL,
	"badge_number" text
);
--> statement-breakpoint
CREATE UNIQUE INDEX "credentials_external_key" ON "credentials" USING btree ("region_code","external_id") WHERE "credentials"."deleted_at" is null;--> statement-breakpoint
CREATE INDEX "credentials_region_idx" ON "credentials" USING btree ("region_code","id");--> statement-breakpoint
CREATE INDEX "credentials_officer_idx" ON "credentials" USING btree ("officer_id","kind");--> statement-breakpoint
CREATE UNIQUE INDEX "credentials_number_key" ON "credentials" USING btree ("credential_number") WHERE "credentials"."deleted_at" is null;--> statement-breakpoint
CREATE INDEX "credentials_expires_on_idx" ON "credentials" USING btree ("expires_on");--> statement-breakpoint
CREATE INDEX "audit_log_region_id_idx" ON "audit_log" USING btree ("region_code","id");--> statement-breakpoint
CREATE INDEX "audit_log_record_idx" ON "audit_log" USING btree ("record_id");--> statement-breakpoint
CREATE INDEX "changes_region_seq_idx" ON "changes" USING btree ("region_code","seq");--> statement-breakpoint
CREATE UNIQUE INDEX "org_units_external_key" ON "org_units" USING btree ("region_code","external_id") WHERE "org_units"."deleted_at" is null;--> statement-breakpoint
CREATE INDEX "org_units_region_idx" ON "org_units" USING btree ("region_code","id");--> statement-breakpoint
CREATE INDEX "org_units_parent_idx" ON "org_units" USING btree ("parent_id");--> statement-breakpoint
CREATE UNIQUE INDEX "officers_external_key" ON "officers" USING btree ("region_code","external_id") WHERE "officers"."deleted_at" is null;--> statement-breakpoint
CREATE INDEX "officers_region_idx" ON "officers" USING btree ("region_code","id");--> statement-breakpoint
CREATE INDEX "officers_org_unit_idx" ON "officers" USING btree ("org_unit_id");--> statement-breakpoint
CREATE INDEX "officers_id_card_number_hash_idx" ON "officers" USING btree ("id_card_number_hash");--> statement-breakpoint
CREATE INDEX "officers_name_prefix_idx" ON "officers" USING btree ("name" text_pattern_ops);