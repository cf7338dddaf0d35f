CREATE TABLE `approval_webhooks` (
	`id` text PRIMARY KEY NOT NULL,
	`url` text NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `approver_enrolments` (
	`token_hash` text PRIMARY KEY NOT NULL,
	`approver_id` text NOT NULL,
	`expires_at` integer NOT NULL,
	`used_at` integer
);
--> statement-breakpoint
CREATE TABLE `approver_keys` (
	`kid` text PRIMARY KEY NOT NULL,
	`approver_id` text NOT NULL,
	`kind` text NOT NULL,
	`jwk` text,
	`public_key` text,
	`counter` integer DEFAULT 0 NOT NULL,
	`transports` text,
	`created_at` integer NOT NULL,
	`retired_at` integer
);
--> statement-breakpoint
CREATE INDEX `approver_keys_approver` ON `approver_keys` (`approver_id`);--> statement-breakpoint
CREATE TABLE `approver_sessions` (
	`id_hash` text PRIMARY KEY NOT NULL,
	`approver_id` text NOT NULL,
	`kid` text NOT NULL,
	`created_at` integer NOT NULL,
	`expires_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `webauthn_challenges` (
	`challenge` text PRIMARY KEY NOT NULL,
	`purpose` text NOT NULL,
	`subject` text NOT NULL,
	`expires_at` integer NOT NULL
);
--> statement-breakpoint
-- Hand-written from here: names normalised (SQL has no NFKC: existing names are lower-cased and
-- trimmed; the service normalises fully from now on), duplicates kept apart by their id, and
-- each approver's one JWK moved to approver_keys.
ALTER TABLE `approvers` ADD `name_key` text NOT NULL DEFAULT '';--> statement-breakpoint
UPDATE `approvers` SET `name_key` = lower(trim(`name`)) || CASE WHEN EXISTS (SELECT 1 FROM `approvers` AS b WHERE lower(trim(b.`name`)) = lower(trim(`approvers`.`name`)) AND b.`rowid` < `approvers`.`rowid`) THEN '#' || `id` ELSE '' END;--> statement-breakpoint
CREATE UNIQUE INDEX `approvers_name_key` ON `approvers` (`name_key`);--> statement-breakpoint
INSERT INTO `approver_keys` (`kid`, `approver_id`, `kind`, `jwk`, `counter`, `created_at`) SELECT 'legacy.' || `id`, `id`, 'jwk', `jwk`, 0, `created_at` FROM `approvers`;--> statement-breakpoint
ALTER TABLE `approvers` DROP COLUMN `jwk`;
