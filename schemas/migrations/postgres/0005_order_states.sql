-- The current state of every order, as the lifecycle processor keeps it:
-- the order-state sink (connectors/orderstate) writes each record of the
-- compacted state topic creatorflow-lifecycle-order-state here. A row is
-- replaced only by a later state of its order, a later update_time or the
-- same one and a greater version (label changes keep the update time), so
-- replays and redeliveries change nothing. The topic forgets an order 90
-- days after its last change; the table keeps it (prune by updated_at).
CREATE TABLE order_states (
    order_id          text PRIMARY KEY,
    shop_id           text NOT NULL DEFAULT '',
    buyer_id          text NOT NULL DEFAULT '',
    status            text NOT NULL CHECK (status IN ('UNPAID', 'ON_HOLD', 'AWAITING_SHIPMENT',
        'PARTIALLY_SHIPPING', 'AWAITING_COLLECTION', 'IN_TRANSIT', 'DELIVERED', 'COMPLETED', 'CANCELLED')),
    -- NULL after the order's first event
    previous_status   text CHECK (previous_status IN ('UNPAID', 'ON_HOLD', 'AWAITING_SHIPMENT',
        'PARTIALLY_SHIPPING', 'AWAITING_COLLECTION', 'IN_TRANSIT', 'DELIVERED', 'COMPLETED', 'CANCELLED')),
    update_time       timestamptz NOT NULL, -- TikTok's time of the current status
    create_time       timestamptz,
    shipping_due_time timestamptz,
    label_command_id  text,                 -- the latest BUY command, NULL before any
    label_state       text NOT NULL DEFAULT 'NONE' CHECK (label_state IN ('NONE', 'REQUESTED', 'CANCEL_REQUESTED')),
    version           bigint NOT NULL CHECK (version > 0), -- the order's accepted changes
    updated_at        timestamptz NOT NULL, -- event time of the last change
    synced_at         timestamptz NOT NULL DEFAULT now() -- when the sink last wrote the row
);

-- "Orders in a status, oldest first" (the backlog of AWAITING_SHIPMENT).
CREATE INDEX order_states_status ON order_states (status, updated_at);
-- Orders by recency: what changed lately, and pruning.
CREATE INDEX order_states_updated_at ON order_states (updated_at);
