CREATE TABLE `beneficiaries` (
	`id` text PRIMARY KEY NOT NULL,
	`tenant_id` text NOT NULL,
	`customer_id` text NOT NULL,
	`type` text NOT NULL,
	`network` text NOT NULL,
	`currency` text NOT NULL,
	`country` text NOT NULL,
	`status` text NOT NULL,
	`details` text NOT NULL,
	`last4` text NOT NULL,
	`account_fingerprint` text NOT NULL,
	`search_digests` text NOT NULL,
	`modulus_check` text,
	`payee_status` text NOT NULL,
	`payee_scheme` text,
	`payee_provider` text,
	`payee_reference` text,
	`payee_checked_at` text,
	`confirmation_expires_at` text,
	`confirmed_at` text,
	`confirmed_by` text,
	`payee_warning_acknowledged_at` text,
	`created_by` text,
	`created_at` text NOT NULL,
	`updated_at` text NOT NULL,
	`deleted_at` text
);
--> statement-breakpoint
CREATE UNIQUE INDEX `beneficiaries_customer_fingerprint_uq` ON `beneficiaries` (`tenant_id`,`customer_id`,`account_fingerprint`) WHERE deleted_at IS NULL;--> statement-breakpoint
CREATE INDEX `beneficiaries_customer_idx` ON `beneficiaries` (`tenant_id`,`customer_id`,`id`);