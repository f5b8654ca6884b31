CREATE TABLE `organization_people` (
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
	CONSTRAINT "organization_people_stake_ck" CHECK("organization_people"."kind" <> 'SHAREHOLDER' OR "organization_people"."ownership_basis_points" IS NOT NULL)
);
--> statement-breakpoint
CREATE INDEX `organization_people_kind_idx` ON `organization_people` (`tenant_id`,`customer_id`,`kind`,`id`);