ALTER TABLE `webhook_deliveries` ADD `voided_at` text;--> statement-breakpoint
ALTER TABLE `webhook_deliveries` ADD `void_reason` text;--> statement-breakpoint
ALTER TABLE `webhook_endpoints` ADD `url_changed_at` text;