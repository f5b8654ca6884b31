CREATE TABLE `authorization_codes` (
	`id` text PRIMARY KEY NOT NULL,
	`tenant_id` text NOT NULL,
	`code_hash` text NOT NULL,
	`client_id` text NOT NULL,
	`user_id` text NOT NULL,
	`customer_id` text NOT NULL,
	`redirect_uri` text NOT NULL,
	`code_challenge` text NOT NULL,
	`scope` text NOT NULL,
	`amr` text NOT NULL,
	`auth_time` integer NOT NULL,
	`consent_id` text,
	`created_at` text NOT NULL,
	`expires_at` text NOT NULL,
	`consumed_at` text,
	`session_id` text
);
--> statement-breakpoint
CREATE UNIQUE INDEX `authorization_codes_hash_uq` ON `authorization_codes` (`tenant_id`,`code_hash`);--> statement-breakpoint
CREATE TABLE `oauth_grants` (
	`session_id` text PRIMARY KEY NOT NULL,
	`tenant_id` text NOT NULL,
	`client_id` text NOT NULL,
	`user_id` text NOT NULL,
	`customer_id` text NOT NULL,
	`scope` text NOT NULL,
	`amr` text NOT NULL,
	`auth_time` integer NOT NULL,
	`consent_id` text,
	`created_at` text NOT NULL,
	`revoked_at` text,
	`revoked_reason` text
);
--> statement-breakpoint
CREATE INDEX `oauth_grants_client_idx` ON `oauth_grants` (`tenant_id`,`client_id`);--> statement-breakpoint
CREATE INDEX `oauth_grants_customer_idx` ON `oauth_grants` (`tenant_id`,`customer_id`);--> statement-breakpoint
CREATE INDEX `oauth_grants_consent_idx` ON `oauth_grants` (`tenant_id`,`consent_id`);--> statement-breakpoint
ALTER TABLE `clients` ADD `grant_types` text DEFAULT '["client_credentials"]' NOT NULL;--> statement-breakpoint
ALTER TABLE `clients` ADD `redirect_uris` text DEFAULT '[]' NOT NULL;