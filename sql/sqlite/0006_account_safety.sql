-- 0006_account_safety: Nextcloud user ids are case-insensitive (GET
-- cloud/users/BOBNC answers for bobnc), so two mappings whose ids differ only
-- in case would let two addresses into one account. The id is stored exactly
-- as Nextcloud returns it; uniqueness (and lookup) is on lower(id). Nextcloud
-- user ids are ASCII only, which is what SQLite's lower() folds.
-- If existing mappings already collide, this index fails with "UNIQUE
-- constraint failed: index 'mappings_nextcloud_user_id_lower_key'": find them
-- with SELECT lower(nextcloud_user_id), group_concat(qortal_address) FROM
-- mappings GROUP BY 1 HAVING count(*) > 1, and unlink all but one of each.
CREATE UNIQUE INDEX mappings_nextcloud_user_id_lower_key ON mappings (lower(nextcloud_user_id));

-- What the broker is about to create in Nextcloud for an address, written
-- before the create call (see the Postgres migration).
CREATE TABLE provision_intents (
    qortal_address    TEXT NOT NULL PRIMARY KEY CHECK (qortal_address <> ''),
    nextcloud_user_id TEXT NOT NULL CHECK (nextcloud_user_id <> ''),
    created_at        TEXT NOT NULL
) STRICT;
CREATE UNIQUE INDEX provision_intents_nextcloud_user_id_lower_key ON provision_intents (lower(nextcloud_user_id));
