CREATE TABLE `password_tokens` (
	`token_hash` text PRIMARY KEY NOT NULL,
	`tenant_id` text NOT NULL,
	`user_id` text NOT NULL,
	`purpose` text NOT NULL,
	`created_at` text NOT NULL,
	`expires_at` text NOT NULL,
	`consumed_at` text
);
--> statement-breakpoint
CREATE INDEX `password_tokens_user_idx` ON `password_tokens` (`tenant_id`,`user_id`,`created_at`);--> statement-breakpoint
ALTER TABLE `users` ADD `password_setup_required` integer DEFAULT false NOT NULL;--> statement-breakpoint
CREATE INDEX `users_tenant_kind_idx` ON `users` (`tenant_id`,`kind`,`id`);