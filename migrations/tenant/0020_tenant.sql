DROP INDEX `group_members_user_idx`;--> statement-breakpoint
CREATE INDEX `group_members_user_idx` ON `group_members` (`tenant_id`,`user_id`,`group_id`);