ALTER TABLE "assistants" ADD COLUMN "id_card_number_masked" text;--> statement-breakpoint
ALTER TABLE "assistants" ADD COLUMN "phone_masked" text;--> statement-breakpoint
ALTER TABLE "officers" ADD COLUMN "id_card_number_masked" text;--> statement-breakpoint
ALTER TABLE "officers" ADD COLUMN "phone_masked" text;