CREATE TABLE `provider_events` (
	`id` text PRIMARY KEY NOT NULL,
	`tenant_id` text NOT NULL,
	`provider` text NOT NULL,
	`event_id` text NOT NULL,
	`verification_id` text NOT NULL,
	`customer_id` text NOT NULL,
	`occurred_at` text NOT NULL,
	`outcome` text NOT NULL,
	`disposition` text NOT NULL,
	`received_at` text NOT NULL,
	`applied_at` text
);
--> statement-breakpoint
CREATE UNIQUE INDEX `provider_events_uq` ON `provider_events` (`tenant_id`,`provider`,`event_id`);--> statement-breakpoint
CREATE TABLE `screening_hits` (
	`id` text PRIMARY KEY NOT NULL,
	`tenant_id` text NOT NULL,
	`verification_id` text NOT NULL,
	`check_id` text NOT NULL,
	`customer_id` text NOT NULL,
	`attempt` integer NOT NULL,
	`subject` text NOT NULL,
	`list_entry_id` text NOT NULL,
	`caption` text NOT NULL,
	`datasets` text NOT NULL,
	`topics` text NOT NULL,
	`score_percent` integer NOT NULL,
	`matched_on` text NOT NULL,
	`disposition` text NOT NULL,
	`disposed_by` text,
	`disposed_at` text,
	`note` text,
	`created_at` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `screening_hits_verification_idx` ON `screening_hits` (`tenant_id`,`verification_id`,`attempt`);--> statement-breakpoint
CREATE TABLE `verification_checks` (
	`id` text PRIMARY KEY NOT NULL,
	`tenant_id` text NOT NULL,
	`verification_id` text NOT NULL,
	`customer_id` text NOT NULL,
	`attempt` integer NOT NULL,
	`type` text NOT NULL,
	`subject` text NOT NULL,
	`status` text NOT NULL,
	`result_code` text,
	`provider_reference` text,
	`started_at` text NOT NULL,
	`completed_at` text
);
--> statement-breakpoint
CREATE UNIQUE INDEX `verification_checks_uq` ON `verification_checks` (`tenant_id`,`verification_id`,`attempt`,`type`,`subject`);--> statement-breakpoint
CREATE TABLE `verification_decisions` (
	`id` text PRIMARY KEY NOT NULL,
	`tenant_id` text NOT NULL,
	`verification_id` text NOT NULL,
	`customer_id` text NOT NULL,
	`attempt` integer NOT NULL,
	`reviewer_id` text NOT NULL,
	`decision` text NOT NULL,
	`reason` text NOT NULL,
	`created_at` text NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `verification_decisions_reviewer_uq` ON `verification_decisions` (`tenant_id`,`verification_id`,`attempt`,`reviewer_id`);--> statement-breakpoint
CREATE TABLE `verifications` (
	`id` text PRIMARY KEY NOT NULL,
	`tenant_id` text NOT NULL,
	`customer_id` text NOT NULL,
	`level` text NOT NULL,
	`status` text NOT NULL,
	`reason` text NOT NULL,
	`attempt` integer NOT NULL,
	`provider` text NOT NULL,
	`provider_ref` text,
	`submitted_by` text,
	`approvals_required` integer NOT NULL,
	`auto_approve` integer NOT NULL,
	`outcome` text,
	`review_reason` text,
	`last_event_at` text,
	`job_enqueued_at` text,
	`approved_at` text,
	`expires_at` text,
	`expiring_notified_at` text,
	`expired_notified_at` text,
	`created_at` text NOT NULL,
	`updated_at` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `verifications_customer_idx` ON `verifications` (`tenant_id`,`customer_id`,`id`);--> statement-breakpoint
CREATE UNIQUE INDEX `verifications_open_uq` ON `verifications` (`tenant_id`,`customer_id`,`level`) WHERE "verifications"."status" IN ('PENDING', 'IN_PROGRESS', 'MANUAL_REVIEW', 'ADDITIONAL_INFO_REQUIRED');--> statement-breakpoint
CREATE INDEX `verifications_status_idx` ON `verifications` (`tenant_id`,`status`,`updated_at`);--> statement-breakpoint
CREATE INDEX `verifications_expiry_idx` ON `verifications` (`tenant_id`,`status`,`expires_at`);--> statement-breakpoint
CREATE INDEX `verifications_unenqueued_idx` ON `verifications` (`job_enqueued_at`,`created_at`);