-- Personal data moves under per-customer keys (src/platform/personal-data.ts). Rows written
-- before held it in the clear and cannot be sealed in SQL; no deployment holds real customers
-- yet, so logins, customers and what hangs off them are removed (`npm start` seeds its demo
-- staff again). Emails are looked up by keyed digests from here on.
DELETE FROM `users`;--> statement-breakpoint
DELETE FROM `user_roles`;--> statement-breakpoint
DELETE FROM `group_members`;--> statement-breakpoint
DELETE FROM `sessions`;--> statement-breakpoint
DELETE FROM `password_tokens`;--> statement-breakpoint
DELETE FROM `totp_enrolments`;--> statement-breakpoint
DELETE FROM `totp_credentials`;--> statement-breakpoint
DELETE FROM `recovery_codes`;--> statement-breakpoint
DELETE FROM `webauthn_credentials`;--> statement-breakpoint
DELETE FROM `webauthn_challenges`;--> statement-breakpoint
DELETE FROM `authorization_codes`;--> statement-breakpoint
DELETE FROM `oauth_grants`;--> statement-breakpoint
DELETE FROM `customers`;--> statement-breakpoint
DELETE FROM `consents`;--> statement-breakpoint
DELETE FROM `organization_people`;--> statement-breakpoint
DELETE FROM `contact_verification_codes`;--> statement-breakpoint
DELETE FROM `idempotency_keys`;--> statement-breakpoint
CREATE TABLE `customer_keys` (
	`tenant_id` text NOT NULL,
	`customer_id` text NOT NULL,
	`wrapped_key` text NOT NULL,
	`created_at` text NOT NULL,
	PRIMARY KEY(`tenant_id`, `customer_id`)
);
--> statement-breakpoint
CREATE TABLE `customer_search_terms` (
	`tenant_id` text NOT NULL,
	`term_digest` text NOT NULL,
	`customer_id` text NOT NULL,
	PRIMARY KEY(`tenant_id`, `term_digest`, `customer_id`)
);
--> statement-breakpoint
CREATE INDEX `customer_search_terms_customer_idx` ON `customer_search_terms` (`tenant_id`,`customer_id`);--> statement-breakpoint
DROP INDEX `customers_tenant_email_idx`;--> statement-breakpoint
ALTER TABLE `customers` ADD `personal` text;--> statement-breakpoint
ALTER TABLE `customers` ADD `email_digest` text;--> statement-breakpoint
ALTER TABLE `customers` ADD `legal_hold_reason` text;--> statement-breakpoint
ALTER TABLE `customers` ADD `legal_hold_placed_at` text;--> statement-breakpoint
ALTER TABLE `customers` ADD `legal_hold_placed_by` text;--> statement-breakpoint
ALTER TABLE `customers` ADD `erased_at` text;--> statement-breakpoint
CREATE INDEX `customers_tenant_email_digest_idx` ON `customers` (`tenant_id`,`email_digest`);--> statement-breakpoint
ALTER TABLE `customers` DROP COLUMN `email`;--> statement-breakpoint
ALTER TABLE `customers` DROP COLUMN `phone`;--> statement-breakpoint
ALTER TABLE `customers` DROP COLUMN `display_name`;--> statement-breakpoint
ALTER TABLE `customers` DROP COLUMN `profile`;--> statement-breakpoint
DROP INDEX `users_tenant_email_uq`;--> statement-breakpoint
ALTER TABLE `users` ADD `email_digest` text NOT NULL;--> statement-breakpoint
CREATE UNIQUE INDEX `users_tenant_email_digest_uq` ON `users` (`tenant_id`,`email_digest`);--> statement-breakpoint
ALTER TABLE `contact_verification_codes` ADD `recipient_digest` text NOT NULL;--> statement-breakpoint
ALTER TABLE `contact_verification_codes` DROP COLUMN `recipient`;--> statement-breakpoint
ALTER TABLE `events` ADD `subject_id` text;--> statement-breakpoint
CREATE INDEX `events_subject_idx` ON `events` (`tenant_id`,`subject_id`,`id`);--> statement-breakpoint
ALTER TABLE `idempotency_keys` ADD `subject_id` text;--> statement-breakpoint
CREATE INDEX `idempotency_subject_idx` ON `idempotency_keys` (`tenant_id`,`subject_id`);--> statement-breakpoint
PRAGMA foreign_keys=OFF;--> statement-breakpoint
CREATE TABLE `__new_organization_people` (
	`id` text PRIMARY KEY NOT NULL,
	`tenant_id` text NOT NULL,
	`customer_id` text NOT NULL,
	`kind` text NOT NULL,
	`role` text,
	`user_id` text,
	`ownership_basis_points` integer,
	`details` text NOT NULL,
	`created_at` text NOT NULL,
	`updated_at` text NOT NULL,
	CONSTRAINT "organization_people_stake_ck" CHECK("__new_organization_people"."kind" <> 'SHAREHOLDER' OR "__new_organization_people"."ownership_basis_points" IS NOT NULL),
	CONSTRAINT "organization_people_employee_ck" CHECK("__new_organization_people"."kind" <> 'EMPLOYEE' OR ("__new_organization_people"."role" IS NOT NULL AND "__new_organization_people"."user_id" IS NOT NULL))
);
--> statement-breakpoint
INSERT INTO `__new_organization_people`("id", "tenant_id", "customer_id", "kind", "role", "user_id", "ownership_basis_points", "details", "created_at", "updated_at") SELECT "id", "tenant_id", "customer_id", "kind", "role", "user_id", "ownership_basis_points", "details", "created_at", "updated_at" FROM `organization_people`;--> statement-breakpoint
DROP TABLE `organization_people`;--> statement-breakpoint
ALTER TABLE `__new_organization_people` RENAME TO `organization_people`;--> statement-breakpoint
PRAGMA foreign_keys=ON;--> statement-breakpoint
CREATE INDEX `organization_people_kind_idx` ON `organization_people` (`tenant_id`,`customer_id`,`kind`,`id`);