ALTER TABLE `verifications` ADD `poll_count` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `verifications` ADD `next_poll_at` text;--> statement-breakpoint
CREATE INDEX `verifications_poll_idx` ON `verifications` (`tenant_id`,`status`,`next_poll_at`);