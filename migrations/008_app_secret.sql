-- Keys the API signs with, made once, by the first migration, so that every instance on this
-- database (and on its replicas) signs and checks alike. CURSOR_SECRET, when set, is used
-- instead of the 'cursor' key. Two random UUIDs give 244 random bits.
CREATE TABLE app_secret (
  name text PRIMARY KEY,
  value text NOT NULL
);

INSERT INTO app_secret (name, value)
VALUES ('cursor', replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', ''));
