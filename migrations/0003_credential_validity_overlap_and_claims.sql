-- One valid credential of a kind per officer over its validity period (DESIGN §6): two valid credentials
-- of the same officer and kind may not have overlapping [issued_on, expires_on] periods. An exclusion
-- constraint holds this between concurrent transactions; btree_gist gives GiST the equality of uuid/text.
CREATE EXTENSION IF NOT EXISTS btree_gist;
--> statement-breakpoint
ALTER TABLE "credentials" ADD CONSTRAINT "credentials_one_valid_per_kind"
  EXCLUDE USING gist ("officer_id" WITH =, "kind" WITH =, daterange("issued_on", "expires_on", '[]') WITH &&)
  WHERE ("status" = 'valid' AND "deleted_at" IS NULL);
--> statement-breakpoint
-- ID numbers are unique among active people: claim the numbers of the officers already active.
INSERT INTO "record_claims" ("namespace", "key", "collection", "record_id")
  SELECT 'person_id_card', "id_card_number_hash", 'officers', "id" FROM "officers"
  WHERE "employment_status" = 'active' AND "deleted_at" IS NULL
  ON CONFLICT DO NOTHING;
