CREATE TABLE `contact_verification_codes` (
	`tenant_id` text NOT NULL,
	`customer_id` text NOT NULL,
	`contact` text NOT NULL,
	`code_digest` text NOT NULL,
	`recipient` text NOT NULL,
	`attempts` integer DEFAULT 0 NOT NULL,
	`created_at` text NOT NULL,
	`expires_at` text NOT NULL,
	PRIMARY KEY(`tenant_id`, `customer_id`, `contact`)
);
