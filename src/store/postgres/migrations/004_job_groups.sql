-- Job groups (NewJob.group): a job is leased only when no earlier job of its group is left that
-- is not dead; a job retried with leaveGroup keeps its row but drops its group.
ALTER TABLE jobs ADD COLUMN grp text;
CREATE INDEX jobs_group ON jobs (queue, grp, seq) WHERE grp IS NOT NULL AND NOT dead;
