-- The generic resource store (src/store/resources.ts): one row per named resource of any service.
CREATE TABLE resources (
  kind TEXT NOT NULL,
  account TEXT NOT NULL,
  region TEXT NOT NULL,
  name TEXT NOT NULL,
  version INTEGER NOT NULL,
  doc TEXT NOT NULL,
  tags TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (kind, account, region, name)
) WITHOUT ROWID;

-- names deleted recently, until when (AWS refuses to recreate some for a while)
CREATE TABLE resources_deleted (
  kind TEXT NOT NULL,
  account TEXT NOT NULL,
  region TEXT NOT NULL,
  name TEXT NOT NULL,
  until INTEGER NOT NULL,
  PRIMARY KEY (kind, account, region, name)
) WITHOUT ROWID;
