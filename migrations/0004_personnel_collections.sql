CREATE TABLE "assistants" (
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
	"phone_cipher" text,
	"phone_hash" text,
	"org_unit_id" uuid NOT NULL,
	"supervising_officer_id" uuid NOT NULL,
	"admitted_on" date NOT NULL,
	"status" text NOT NULL,
	"duties" text[] NOT NULL
);
--> statement-breakpoint
CREATE TABLE "equipment" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"region_code" varchar(6) NOT NULL,
	"external_id" varchar(64),
	"version" integer DEFAULT 1 NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"deleted_at" timestamp (3) with time zone,
	"category" text NOT NULL,
	"model" text NOT NULL,
	"serial_number" text NOT NULL,
	"org_unit_id" uuid NOT NULL,
	"status" text NOT NULL
);
--> statement-breakpoint
CREATE TABLE "equipment_allocations" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"region_code" varchar(6) NOT NULL,
	"external_id" varchar(64),
	"version" integer DEFAULT 1 NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"deleted_at" timestamp (3) with time zone,
	"equipment_id" uuid NOT NULL,
	"holder_type" text NOT NULL,
	"holder_id" uuid NOT NULL,
	"allocated_on" date NOT NULL,
	"returned_on" date
);
--> statement-breakpoint
CREATE TABLE "post_statuses" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"region_code" varchar(6) NOT NULL,
	"external_id" varchar(64),
	"version" integer DEFAULT 1 NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"deleted_at" timestamp (3) with time zone,
	"officer_id" uuid NOT NULL,
	"status" text NOT NULL,
	"post" text,
	"grid_code" text,
	"effective_from" date NOT NULL
);
--> statement-breakpoint
CREATE TABLE "assessments" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"region_code" varchar(6) NOT NULL,
	"external_id" varchar(64),
	"version" integer DEFAULT 1 NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"deleted_at" timestamp (3) with time zone,
	"assistant_id" uuid NOT NULL,
	"period" text NOT NULL,
	"result" text NOT NULL,
	"rewards" text,
	"penalties" text,
	"note" text
);
--> statement-breakpoint
CREATE TABLE "trainings" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"region_code" varchar(6) NOT NULL,
	"external_id" varchar(64),
	"version" integer DEFAULT 1 NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"deleted_at" timestamp (3) with time zone,
	"person_type" text NOT NULL,
	"person_id" uuid NOT NULL,
	"kind" text NOT NULL,
	"title" text NOT NULL,
	"organizer" text NOT NULL,
	"started_on" date NOT NULL,
	"ended_on" date NOT NULL,
	"hours" double precision NOT NULL,
	"passed" boolean
);
--> statement-breakpoint
ALTER TABLE "assistants" ADD CONSTRAINT "assistants_org_unit_id_org_units_id_fk" FOREIGN KEY ("org_unit_id") REFERENCES "public"."org_units"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "assistants" ADD CONSTRAINT "assistants_supervising_officer_id_officers_id_fk" FOREIGN KEY ("supervising_officer_id") REFERENCES "public"."officers"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "equipment" ADD CONSTRAINT "equipment_org_unit_id_org_units_id_fk" FOREIGN KEY ("org_unit_id") REFERENCES "public"."org_units"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "equipment_allocations" ADD CONSTRAINT "equipment_allocations_equipment_id_equipment_id_fk" FOREIGN KEY ("equipment_id") REFERENCES "public"."equipment"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "post_statuses" ADD CONSTRAINT "post_statuses_officer_id_officers_id_fk" FOREIGN KEY ("officer_id") REFERENCES "public"."officers"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "assessments" ADD CONSTRAINT "assessments_assistant_id_assistants_id_fk" FOREIGN KEY ("assistant_id") REFERENCES "public"."assistants"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "assistants_external_key" ON "assistants" USING btree ("region_code","external_id") WHERE "assistants"."deleted_at" is null;--> statement-breakpoint
CREATE INDEX "assistants_region_idx" ON "assistants" USING btree ("region_code","id");--> statement-breakpoint
CREATE INDEX "assistants_org_unit_idx" ON "assistants" USING btree ("org_unit_id");--> statement-breakpoint
CREATE INDEX "assistants_supervisor_idx" ON "assistants" USING btree ("supervising_officer_id");--> statement-breakpoint
CREATE INDEX "assistants_id_card_number_hash_idx" ON "assistants" USING btree ("id_card_number_hash");--> statement-breakpoint
CREATE UNIQUE INDEX "equipment_external_key" ON "equipment" USING btree ("region_code","external_id") WHERE "equipment"."deleted_at" is null;--> statement-breakpoint
CREATE INDEX "equipment_region_idx" ON "equipment" USING btree ("region_code","id");--> statement-breakpoint
CREATE INDEX "equipment_org_unit_idx" ON "equipment" USING btree ("org_unit_id");--> statement-breakpoint
CREATE UNIQUE INDEX "equipment_category_serial_key" ON "equipment" USING btree ("category","serial_number") WHERE "equipment"."deleted_at" is null;--> statement-breakpoint
CREATE UNIQUE INDEX "equipment_allocations_external_key" ON "equipment_allocations" USING btree ("region_code","external_id") WHERE "equipment_allocations"."deleted_at" is null;--> statement-breakpoint
CREATE INDEX "equipment_allocations_region_idx" ON "equipment_allocations" USING btree ("region_code","id");--> statement-breakpoint
CREATE INDEX "equipment_allocations_equipment_idx" ON "equipment_allocations" USING btree ("equipment_id","allocated_on");--> statement-breakpoint
CREATE INDEX "equipment_allocations_holder_idx" ON "equipment_allocations" USING btree ("holder_id");--> statement-breakpoint
CREATE UNIQUE INDEX "equipment_allocations_open_key" ON "equipment_allocations" USING btree ("equipment_id") WHERE "equipment_allocations"."returned_on" is null and "equipment_allocations"."deleted_at" is null;--> statement-breakpoint
CREATE UNIQUE INDEX "post_statuses_external_key" ON "post_statuses" USING btree ("region_code","external_id") WHERE "post_statuses"."deleted_at" is null;--> statement-breakpoint
CREATE INDEX "post_statuses_region_idx" ON "post_statuses" USING btree ("region_code","id");--> statement-breakpoint
CREATE UNIQUE INDEX "post_statuses_officer_day_key" ON "post_statuses" USING btree ("officer_id","effective_from") WHERE "post_statuses"."deleted_at" is null;--> statement-breakpoint
CREATE UNIQUE INDEX "assessments_external_key" ON "assessments" USING btree ("region_code","external_id") WHERE "assessments"."deleted_at" is null;--> statement-breakpoint
CREATE INDEX "assessments_region_idx" ON "assessments" USING btree ("region_code","id");--> statement-breakpoint
CREATE UNIQUE INDEX "assessments_assistant_period_key" ON "assessments" USING btree ("assistant_id","period") WHERE "assessments"."deleted_at" is null;--> statement-breakpoint
CREATE UNIQUE INDEX "trainings_external_key" ON "trainings" USING btree ("region_code","external_id") WHERE "trainings"."deleted_at" is null;--> statement-breakpoint
CREATE INDEX "trainings_region_idx" ON "trainings" USING btree ("region_code","id");--> statement-breakpoint
CREATE INDEX "trainings_person_idx" ON "trainings" USING btree ("person_id","kind","ended_on");