ALTER TABLE "task_events" ADD COLUMN "agent_id" text DEFAULT '' NOT NULL;--> statement-breakpoint
CREATE INDEX "task_events_agent" ON "task_events" USING btree ("agent_id","kind","at");