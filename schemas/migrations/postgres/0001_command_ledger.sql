-- The executors' ledger: one row per command, written before the remote call
-- so a redelivered command never causes a second side effect.
CREATE TABLE command_ledger (
    command_id    text PRIMARY KEY,
    kind          text NOT NULL CHECK (kind IN ('label', 'reorder', 'tiktok_sync')),
    subject       text NOT NULL, -- order id for labels and status syncs, SKU for reorders and stock syncs
    state         text NOT NULL DEFAULT 'PENDING' CHECK (state IN ('PENDING', 'DONE', 'FAILED', 'CANCELLED')),
    attempts      integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    chosen_option jsonb,
    result        jsonb,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);

-- At most one live label per order, enforced by the database rather than by
-- a check in code that two executors could both pass.
CREATE UNIQUE INDEX command_ledger_one_live_label
    ON command_ledger (subject)
    WHERE kind = 'label' AND state IN ('PENDING', 'DONE');

CREATE INDEX command_ledger_pending ON command_ledger (kind, updated_at) WHERE state = 'PENDING';
