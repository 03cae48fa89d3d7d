-- 0006_account_safety: Nextcloud user ids are case-insensitive (GET
-- cloud/users/BOBNC answers for bobnc), so two mappings whose ids differ only
-- in case would let two addresses into one account. The id is stored exactly
-- as Nextcloud returns it; uniqueness (and lookup) is on lower(id). Nextcloud
-- user ids are ASCII only, so lower() folds them the same in both databases.
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM mappings GROUP BY lower(nextcloud_user_id) HAVING count(*) > 1) THEN
        RAISE EXCEPTION 'mappings: several Qortal addresses are linked to Nextcloud user ids that differ only in case, i.e. to one Nextcloud account. Unlink all but one address of each group, then start again. Find them with: SELECT lower(nextcloud_user_id), array_agg(qortal_address) FROM mappings GROUP BY 1 HAVING count(*) > 1';
    END IF;
END
$$;
-- Named table_column_lower_key: the store maps a violation of it to
-- ErrUserTaken, like the exact unique constraint.
CREATE UNIQUE INDEX mappings_nextcloud_user_id_lower_key ON mappings (lower(nextcloud_user_id));

-- What the broker is about to create in Nextcloud for an address, written
-- before the create call: a retry after a crash between "created" and
-- "mapped" finds the user and this row, and links the account the broker
-- itself made. An existing account without such a row is someone else's and
-- is never linked silently. The row goes when the mapping is written.
CREATE TABLE provision_intents (
    qortal_address    text COLLATE "C" NOT NULL,
    nextcloud_user_id text COLLATE "C" NOT NULL,
    created_at        timestamptz NOT NULL,
    CONSTRAINT provision_intents_pkey PRIMARY KEY (qortal_address),
    CONSTRAINT provision_intents_nextcloud_user_id_check CHECK (nextcloud_user_id <> '')
);
CREATE UNIQUE INDEX provision_intents_nextcloud_user_id_lower_key ON provision_intents (lower(nextcloud_user_id));
