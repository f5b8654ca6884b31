DROP INDEX `users_tenant_email_digest_uq`;--> statement-breakpoint
CREATE UNIQUE INDEX `users_tenant_kind_email_digest_uq` ON `users` (`tenant_id`,`kind`,`email_digest`);