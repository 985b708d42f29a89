ALTER TABLE "changes" ADD COLUMN "masked_record" text;--> statement-breakpoint
ALTER TABLE "changes" ADD COLUMN "masked_record_scope" varchar(6);--> statement-breakpoint
ALTER TABLE "changes" ADD COLUMN "masked_record_format" text;