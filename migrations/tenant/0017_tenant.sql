CREATE TABLE `tpp_certificates` (
	`id` text PRIMARY KEY NOT NULL,
	`tenant_id` text NOT NULL,
	`tpp_id` text NOT NULL,
	`qc_type` text NOT NULL,
	`pem` text NOT NULL,
	`sha256` text NOT NULL,
	`serial_number` text NOT NULL,
	`subject` text NOT NULL,
	`issuer` text NOT NULL,
	`not_before` text NOT NULL,
	`not_after` text NOT NULL,
	`psd2_roles` text NOT NULL,
	`trust` text NOT NULL,
	`expiry_notified_at` text,
	`created_at` text NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `tpp_certificates_sha256_uq` ON `tpp_certificates` (`tenant_id`,`sha256`);--> statement-breakpoint
CREATE INDEX `tpp_certificates_tpp_idx` ON `tpp_certificates` (`tenant_id`,`tpp_id`);--> statement-breakpoint
CREATE INDEX `tpp_certificates_expiry_idx` ON `tpp_certificates` (`tenant_id`,`not_after`);--> statement-breakpoint
CREATE TABLE `tpp_consents` (
	`id` text PRIMARY KEY NOT NULL,
	`tenant_id` text NOT NULL,
	`tpp_id` text NOT NULL,
	`client_id` text NOT NULL,
	`customer_id` text NOT NULL,
	`user_id` text,
	`scopes` text NOT NULL,
	`status` text NOT NULL,
	`status_reason` text,
	`revoked_by` text,
	`redirect_uri` text NOT NULL,
	`code_challenge` text NOT NULL,
	`state` text,
	`expires_at` text NOT NULL,
	`authorisation_expires_at` text NOT NULL,
	`created_at` text NOT NULL,
	`status_updated_at` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `tpp_consents_customer_idx` ON `tpp_consents` (`tenant_id`,`customer_id`,`id`);--> statement-breakpoint
CREATE INDEX `tpp_consents_tpp_idx` ON `tpp_consents` (`tenant_id`,`tpp_id`,`id`);--> statement-breakpoint
CREATE INDEX `tpp_consents_status_idx` ON `tpp_consents` (`tenant_id`,`status`,`expires_at`);--> statement-breakpoint
CREATE TABLE `tpps` (
	`id` text PRIMARY KEY NOT NULL,
	`tenant_id` text NOT NULL,
	`name` text NOT NULL,
	`legal_name` text NOT NULL,
	`authorization_number` text NOT NULL,
	`nca_id` text NOT NULL,
	`nca_name` text,
	`roles` text NOT NULL,
	`redirect_uris` text NOT NULL,
	`status` text NOT NULL,
	`status_reason` text,
	`created_at` text NOT NULL,
	`updated_at` text NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `tpps_authorization_uq` ON `tpps` (`tenant_id`,`authorization_number`);--> statement-breakpoint
ALTER TABLE `clients` ADD `tpp_id` text;--> statement-breakpoint
CREATE INDEX `clients_tpp_idx` ON `clients` (`tenant_id`,`tpp_id`);