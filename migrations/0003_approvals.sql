CREATE TABLE `approval_decisions` (
	`request_id` text NOT NULL,
	`approver_id` text NOT NULL,
	`decision` text NOT NULL,
	`jti` text NOT NULL,
	`at` integer NOT NULL,
	PRIMARY KEY(`request_id`, `approver_id`)
);
--> statement-breakpoint
CREATE TABLE `approval_requests` (
	`id` text PRIMARY KEY NOT NULL,
	`client_id` text NOT NULL,
	`request` text NOT NULL,
	`digest` text NOT NULL,
	`quorum` integer NOT NULL,
	`groups` text NOT NULL,
	`allow_owner` integer NOT NULL,
	`status` text NOT NULL,
	`status_reason` text,
	`interval` integer NOT NULL,
	`last_poll_at` integer,
	`created_at` integer NOT NULL,
	`expires_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `approval_requests_status` ON `approval_requests` (`status`,`created_at`);--> statement-breakpoint
CREATE TABLE `approvers` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`groups` text NOT NULL,
	`jwk` text NOT NULL,
	`created_at` integer NOT NULL
);
