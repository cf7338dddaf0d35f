ALTER TABLE `task_events` ADD `agent_id` text DEFAULT '' NOT NULL;--> statement-breakpoint
UPDATE `task_events` SET `agent_id` = coalesce((SELECT `agent_id` FROM `tasks` WHERE `tasks`.`id` = `task_events`.`task_id`), '');--> statement-breakpoint
CREATE INDEX `task_events_agent` ON `task_events` (`agent_id`,`kind`,`at`);
