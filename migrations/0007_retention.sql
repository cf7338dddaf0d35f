CREATE TABLE `audit_checkpoints` (
	`seq` integer PRIMARY KEY NOT NULL,
	`hash` text NOT NULL,
	`at` integer NOT NULL,
	`jws` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `tasks_expiry` ON `tasks` (`expires_at`);