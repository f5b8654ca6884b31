CREATE TABLE `recovery_codes` (
	`tenant_id` text NOT NULL,
	`user_id` text NOT NULL,
	`code_digest` text NOT NULL,
	`created_at` text NOT NULL,
	`consumed_at` text,
	PRIMARY KEY(`tenant_id`, `user_id`, `code_digest`)
);
--> statement-breakpoint
CREATE TABLE `totp_credentials` (
	`tenant_id` text NOT NULL,
	`user_id` text NOT NULL,
	`secret` text NOT NULL,
	`last_used_step` integer NOT NULL,
	`confirmed_at` text NOT NULL,
	PRIMARY KEY(`tenant_id`, `user_id`)
);
--> statement-breakpoint
CREATE TABLE `totp_enrolments` (
	`tenant_id` text NOT NULL,
	`user_id` text NOT NULL,
	`secret` text NOT NULL,
	`created_at` text NOT NULL,
	PRIMARY KEY(`tenant_id`, `user_id`)
);
