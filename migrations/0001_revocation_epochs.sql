CREATE TABLE `revocation_epochs` (
	`scope` text PRIMARY KEY NOT NULL,
	`epoch` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `tasks_jkt` ON `tasks` (`jkt`);