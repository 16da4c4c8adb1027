-- The generic resource store (src/store/resources.ts): one row per named resource of any service.
CREATE TABLE resources (
  kind text NOT NULL,
  account text NOT NULL,
  region text NOT NULL,
  name text NOT NULL,
  version bigint NOT NULL,
  doc text NOT NULL,
  tags text NOT NULL,
  created_at bigint NOT NULL,
  updated_at bigint NOT NULL,
  PRIMARY KEY (kind, account, region, name)
);

-- names deleted recently, until when (AWS refuses to recreate some for a while)
CREATE TABLE resources_deleted (
  kind text NOT NULL,
  account text NOT NULL,
  region text NOT NULL,
  name text NOT NULL,
  until bigint NOT NULL,
  PRIMARY KEY (kind, account, region, name)
);
