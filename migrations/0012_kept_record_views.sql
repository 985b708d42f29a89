CREATE TABLE "record_views" (
	"id" uuid PRIMARY KEY NOT NULL,
	"gen" integer DEFAULT 0 NOT NULL,
	"version" integer,
	"day" date,
	"format" text,
	"lo" varchar(6),
	"hi" varchar(6),
	"etag" text,
	"json" text
);
