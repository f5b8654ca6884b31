CREATE TABLE `documents` (
	`id` text PRIMARY KEY NOT NULL,
	`tenant_id` text NOT NULL,
	`customer_id` text NOT NULL,
	`document_type` text NOT NULL,
	`status` text NOT NULL,
	`rejection_reason` text,
	`scan_status` text NOT NULL,
	`scanner` text,
	`scanned_at` text,
	`mime_type` text NOT NULL,
	`size` integer NOT NULL,
	`sha256` text,
	`issuing_country` text,
	`details` text,
	`expires_at` text,
	`uploaded_by` text,
	`created_at` text NOT NULL,
	`updated_at` text NOT NULL,
	`deleted_at` text,
	`deletion_reason` text,
	`object_removed_at` text
);
--> statement-breakpoint
CREATE INDEX `documents_customer_idx` ON `documents` (`tenant_id`,`customer_id`,`id`);--> statement-breakpoint
CREATE UNIQUE INDEX `documents_duplicate_uq` ON `documents` (`tenant_id`,`customer_id`,`document_type`,`sha256`) WHERE "documents"."deletion_reason" IS NULL;--> statement-breakpoint
CREATE INDEX `documents_expiry_idx` ON `documents` (`tenant_id`,`status`,`expires_at`);--> statement-breakpoint
CREATE INDEX `documents_scan_idx` ON `documents` (`scan_status`,`created_at`);--> statement-breakpoint
CREATE INDEX `documents_object_removal_idx` ON `documents` (`deletion_reason`,`object_removed_at`);--> statement-breakpoint
CREATE TABLE `verification_documents` (
	`tenant_id` text NOT NULL,
	`verification_id` text NOT NULL,
	`document_id` text NOT NULL,
	`created_at` text NOT NULL,
	PRIMARY KEY(`tenant_id`, `verification_id`, `document_id`)
);
--> statement-breakpoint
CREATE INDEX `verification_documents_document_idx` ON `verification_documents` (`tenant_id`,`document_id`);