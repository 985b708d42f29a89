CREATE INDEX "assistants_tombstone_key_idx" ON "assistants" USING btree ("region_code","external_id") WHERE "assistants"."deleted_at" is not null;--> statement-breakpoint
CREATE INDEX "cases_tombstone_key_idx" ON "cases" USING btree ("region_code","external_id") WHERE "cases"."deleted_at" is not null;--> statement-breakpoint
CREATE INDEX "credentials_tombstone_key_idx" ON "credentials" USING btree ("region_code","external_id") WHERE "credentials"."deleted_at" is not null;--> statement-breakpoint
CREATE INDEX "equipment_tombstone_key_idx" ON "equipment" USING btree ("region_code","external_id") WHERE "equipment"."deleted_at" is not null;--> statement-breakpoint
CREATE INDEX "equipment_allocations_tombstone_key_idx" ON "equipment_allocations" USING btree ("region_code","external_id") WHERE "equipment_allocations"."deleted_at" is not null;--> statement-breakpoint
CREATE INDEX "org_units_tombstone_key_idx" ON "org_units" USING btree ("region_code","external_id") WHERE "org_units"."deleted_at" is not null;--> statement-breakpoint
CREATE INDEX "officers_tombstone_key_idx" ON "officers" USING btree ("region_code","external_id") WHERE "officers"."deleted_at" is not null;--> statement-breakpoint
CREATE INDEX "post_statuses_tombstone_key_idx" ON "post_statuses" USING btree ("region_code","external_id") WHERE "post_statuses"."deleted_at" is not null;--> statement-breakpoint
CREATE INDEX "assessments_tombstone_key_idx" ON "assessments" USING btree ("region_code","external_id") WHERE "assessments"."deleted_at" is not null;--> statement-breakpoint
CREATE INDEX "trainings_tombstone_key_idx" ON "trainings" USING btree ("region_code","external_id") WHERE "trainings"."deleted_at" is not null;