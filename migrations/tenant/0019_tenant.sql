ALTER TABLE `clients` ADD `token_generation` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `tpp_certificates` ADD `expiry_notices` integer DEFAULT 0 NOT NULL;