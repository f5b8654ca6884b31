DROP INDEX `events_pending_idx`;--> statement-breakpoint
CREATE INDEX `events_pending_idx` ON `events` (`dispatched_at`,`enqueued_at`);--> statement-breakpoint
-- Events from before the handover was written with the event: the sweep now finds the
-- undispatched by the time of their handover, so a row never marked counts from its creation.
UPDATE `events` SET `enqueued_at` = `created_at` WHERE `enqueued_at` IS NULL AND `dispatched_at` IS NULL;
