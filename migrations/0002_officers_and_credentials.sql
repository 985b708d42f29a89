CREATE TABLE "credentials" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"region_code" varchar(6) NOT NULL,
	"external_id" varchar(64),
	"version" integer DEFAULT 1 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"deleted_at" timestamp with time zone,
	"officer_id" uuid NOT NULL,
	"credential_number" text NOT NULL,
	"kind" text NOT NULL,
	"issuing_authority" text NOT NULL,
	"issued_on" date NOT NULL,
	"expires_on" date NOT NULL,
	"status" text NOT NULL
);
--> statement-breakpoint
CREATE TABLE "officers" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"region_code" varchar(6) NOT NULL,
	"external_id" varchar(64),
	"version" integer DEFAULT 1 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"deleted_at" timestamp with time zone,
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
CREATE UNIQUE INDEX "officers_external_key" ON "officers" USING btree ("region_code","external_id") WHERE "officers"."deleted_at" is null;--> statement-breakpoint
CREATE INDEX "officers_region_idx" ON "officers" USING btree ("region_code","id");--> statement-breakpoint
CREATE INDEX "officers_org_unit_idx" ON "officers" USING btree ("org_unit_id");--> statement-breakpoint
CREATE INDEX "officers_id_card_number_hash_idx" ON "officers" USING btree ("id_card_number_hash");--> statement-breakpoint
CREATE INDEX "officers_name_prefix_idx" ON "officers" USING btree ("name" text_pattern_ops);