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