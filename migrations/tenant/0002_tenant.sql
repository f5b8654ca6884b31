ALTER TABLE `clients` ADD `secret_rotated_at` text;--> statement-breakpoint
ALTER TABLE `clients` ADD `revoked_at` text;