CREATE TABLE `revocation_epochs` (
	`scope` text PRIMARY KEY NOT NULL,
	`epoch` integer NOT NULL
);
--> statement-breakpoint
DROP INDEX `task_events_task`;--> statement-breakpoint
CREATE INDEX `task_events_task` ON `task_events` (`task_id`,`kind`,`at`);--> statement-breakpoint
CREATE INDEX `tasks_jkt` ON `tasks` (`jkt`);