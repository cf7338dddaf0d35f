CREATE TABLE "agents" (
	"id" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"owner" text NOT NULL,
	"jwks" json NOT NULL,
	"templates" json NOT NULL,
	"status" text NOT NULL,
	"created_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "approval_decisions" (
	"request_id" text NOT NULL,
	"approver_id" text NOT NULL,
	"decision" text NOT NULL,
	"jti" text NOT NULL,
	"at" bigint NOT NULL,
	CONSTRAINT "approval_decisions_request_id_approver_id_pk" PRIMARY KEY("request_id","approver_id")
);
--> statement-breakpoint
CREATE TABLE "approval_requests" (
	"id" text PRIMARY KEY NOT NULL,
	"client_id" text NOT NULL,
	"request" json NOT NULL,
	"digest" text NOT NULL,
	"quorum" integer NOT NULL,
	"groups" json NOT NULL,
	"allow_owner" boolean NOT NULL,
	"status" text NOT NULL,
	"status_reason" text,
	"interval" integer NOT NULL,
	"last_poll_at" bigint,
	"created_at" bigint NOT NULL,
	"expires_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "approval_webhooks" (
	"id" text PRIMARY KEY NOT NULL,
	"url" text NOT NULL,
	"created_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "approver_enrolments" (
	"token_hash" text PRIMARY KEY NOT NULL,
	"approver_id" text NOT NULL,
	"expires_at" bigint NOT NULL,
	"used_at" bigint
);
--> statement-breakpoint
CREATE TABLE "approver_keys" (
	"kid" text PRIMARY KEY NOT NULL,
	"approver_id" text NOT NULL,
	"kind" text NOT NULL,
	"jwk" json,
	"public_key" text,
	"counter" integer DEFAULT 0 NOT NULL,
	"transports" json,
	"created_at" bigint NOT NULL,
	"retired_at" bigint
);
--> statement-breakpoint
CREATE TABLE "approver_sessions" (
	"id_hash" text PRIMARY KEY NOT NULL,
	"approver_id" text NOT NULL,
	"kid" text NOT NULL,
	"created_at" bigint NOT NULL,
	"expires_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "approvers" (
	"id" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"name_key" text NOT NULL,
	"groups" json NOT NULL,
	"created_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "audit" (
	"seq" bigint PRIMARY KEY NOT NULL,
	"at" bigint NOT NULL,
	"type" text NOT NULL,
	"actor" text NOT NULL,
	"task_id" text,
	"data" json NOT NULL,
	"prev_hash" text NOT NULL,
	"hash" text NOT NULL
);
--> statement-breakpoint
CREATE TABLE "provider_sessions" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "provider_sessions_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"task_id" text NOT NULL,
	"provider" text NOT NULL,
	"target" text NOT NULL,
	"expires_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "receivers" (
	"id" text PRIMARY KEY NOT NULL,
	"endpoint" text NOT NULL,
	"audience" text NOT NULL,
	"created_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "replay" (
	"namespace" text NOT NULL,
	"jti" text NOT NULL,
	"expires_at" bigint NOT NULL,
	CONSTRAINT "replay_namespace_jti_pk" PRIMARY KEY("namespace","jti")
);
--> statement-breakpoint
CREATE TABLE "resources" (
	"id" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"audience" text NOT NULL,
	"secret_hash" text NOT NULL,
	"created_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "revocation_epochs" (
	"scope" text PRIMARY KEY NOT NULL,
	"epoch" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "revoked_tokens" (
	"jti" text PRIMARY KEY NOT NULL,
	"expires_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "secrets" (
	"name" text PRIMARY KEY NOT NULL,
	"sealed_value" text NOT NULL,
	"created_at" bigint NOT NULL,
	"updated_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "signing_keys" (
	"kid" text PRIMARY KEY NOT NULL,
	"alg" text NOT NULL,
	"use" text NOT NULL,
	"public_jwk" json NOT NULL,
	"sealed_private" text NOT NULL,
	"created_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "task_events" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "task_events_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"task_id" text NOT NULL,
	"at" bigint NOT NULL,
	"kind" text NOT NULL,
	"detail" json NOT NULL
);
--> statement-breakpoint
CREATE TABLE "tasks" (
	"id" text PRIMARY KEY NOT NULL,
	"agent_id" text NOT NULL,
	"template" text NOT NULL,
	"environment" text NOT NULL,
	"purpose" text NOT NULL,
	"jkt" text NOT NULL,
	"status" text NOT NULL,
	"status_reason" text,
	"created_at" bigint NOT NULL,
	"expires_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "webauthn_challenges" (
	"challenge" text PRIMARY KEY NOT NULL,
	"purpose" text NOT NULL,
	"subject" text NOT NULL,
	"expires_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE INDEX "approval_requests_status" ON "approval_requests" USING btree ("status","created_at");--> statement-breakpoint
CREATE INDEX "approver_keys_approver" ON "approver_keys" USING btree ("approver_id");--> statement-breakpoint
CREATE UNIQUE INDEX "approvers_name_key" ON "approvers" USING btree ("name_key");--> statement-breakpoint
CREATE INDEX "provider_sessions_task" ON "provider_sessions" USING btree ("task_id");--> statement-breakpoint
CREATE INDEX "replay_expiry" ON "replay" USING btree ("expires_at");--> statement-breakpoint
CREATE INDEX "revoked_tokens_expiry" ON "revoked_tokens" USING btree ("expires_at");--> statement-breakpoint
CREATE INDEX "task_events_task" ON "task_events" USING btree ("task_id","kind","at");--> statement-breakpoint
CREATE INDEX "tasks_agent" ON "tasks" USING btree ("agent_id");--> statement-breakpoint
CREATE INDEX "tasks_environment" ON "tasks" USING btree ("environment");--> statement-breakpoint
CREATE INDEX "tasks_jkt" ON "tasks" USING btree ("jkt");--> statement-breakpoint
CREATE INDEX "tasks_created" ON "tasks" USING btree ("created_at","id");