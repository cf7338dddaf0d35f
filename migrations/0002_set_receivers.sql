CREATE TABLE `receivers` (
	`id` text PRIMARY KEY NOT NULL,
	`endpoint` text NOT NULL,
	`audience` text NOT NULL,
	`created_at` integer NOT NULL
);
