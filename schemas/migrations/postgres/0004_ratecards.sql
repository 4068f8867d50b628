-- Carrier rate cards (processors/carrier, docs/carriers.md): each carrier's
-- prices by zone and weight tier and its transit days by zone, versioned. A
-- version is never changed once imported (carrier.Import refuses a changed
-- card under an existing version): new prices are a new version with a later
-- effective time, and old versions stay, so a past choice can be explained
-- with the prices it saw. The carrier-choice stage reads, per carrier, the
-- version with the latest effective time not after the order's event time
-- (carrier.Load).
CREATE TABLE carrier_ratecards (
    carrier          text NOT NULL,
    version          text NOT NULL,
    effective_at     timestamptz NOT NULL,
    currency         text NOT NULL CHECK (currency = 'USD'),
    -- cubic inches per pound of dimensional weight
    dim_divisor      integer NOT NULL CHECK (dim_divisor > 0),
    -- the volume up to which dimensional weight does not apply
    dim_min_cubic_in integer NOT NULL DEFAULT 0 CHECK (dim_min_cubic_in >= 0),
    imported_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (carrier, version),
    -- two versions of a carrier never take effect at once; the index also
    -- serves the lookup of the version in effect
    UNIQUE (carrier, effective_at)
);

CREATE TABLE carrier_ratecard_services (
    carrier       text NOT NULL,
    version       text NOT NULL,
    service       text NOT NULL,
    position      integer NOT NULL, -- order on the card
    name          text NOT NULL DEFAULT '',
    max_weight_lb integer NOT NULL CHECK (max_weight_lb > 0),
    -- business days by zone, zone 1 first
    transit_days  integer[] NOT NULL CHECK (cardinality(transit_days) = 8),
    PRIMARY KEY (carrier, version, service),
    FOREIGN KEY (carrier, version) REFERENCES carrier_ratecards ON DELETE CASCADE
);

-- One row per weight tier and zone: the price in cents of a parcel whose
-- billable weight is over the previous tier's up_to_lb and at most this one.
CREATE TABLE carrier_ratecard_prices (
    carrier  text NOT NULL,
    version  text NOT NULL,
    service  text NOT NULL,
    up_to_lb integer NOT NULL CHECK (up_to_lb > 0),
    zone     smallint NOT NULL CHECK (zone BETWEEN 1 AND 8),
    cents    bigint NOT NULL CHECK (cents > 0),
    PRIMARY KEY (carrier, version, service, up_to_lb, zone),
    FOREIGN KEY (carrier, version, service) REFERENCES carrier_ratecard_services ON DELETE CASCADE
);
