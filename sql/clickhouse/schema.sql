-- dnssnoop's fleet schema for ClickHouse 18.16 (Debian 12's clickhouse-server).
-- Created on every server of the cluster by tools/clickhouse-schema, which
-- replaces {cluster} with the cluster's name (default fleet). Every
-- statement is idempotent (IF NOT EXISTS). docs/fleet.md explains it;
-- current ClickHouse syntax is in the comments at the end.
--
-- Rows come from dnssnoop --clickhouse (one sink per host, into the
-- Distributed table `messages`), one per dns or unanswered record, in the
-- format of user/report/ch_row.h. The detectors' own verdicts are columns
-- (client_key, name, domain, peer, lookup, first_of_name, *_answer_ns), so
-- that the aggregates below are sums of what the detectors counted.
-- Rows are sharded by host: a host's clients live on one shard.

CREATE DATABASE IF NOT EXISTS dns;

CREATE TABLE IF NOT EXISTS dns.messages_local (
    batch UInt64,            -- the sink's batch id (retries are checked by it)
    ts_ns UInt64,            -- when the message was seen, ns since the epoch (UTC)
    day Date,                -- its UTC day (the partition)
    host String,
    dir String,              -- egress, ingress, '' (offline)
    proto String,            -- udp, tcp
    saddr String, sport UInt16, daddr String, dport UInt16,
    pid UInt32, comm String, uid UInt32, cgroup String,   -- the owner; pid 0: unknown
    id UInt16,
    qr UInt8,                -- 1: a response
    opcode String, rcode String, qname String, qtype String, qclass String,
    flags Array(String),
    len UInt32,
    latency_ns UInt64,       -- 0: not matched
    answers Array(String),   -- A/AAAA addresses of the answer section
    unanswered UInt8,        -- an unanswered record (the query's fields)
    source String,           -- 'dnstap' for a message a server logged
    mirror UInt8,            -- the second copy of an exchange seen twice
    retransmit UInt8,        -- the matcher had the query pending
    -- what the detectors made of it (analysis/detect.h, struct detect_verdict):
    client_key UInt64,       -- hash of the client identity (fixed seed)
    client String,           -- its label, as findings name it
    client_process UInt8, client_comm String, client_uid UInt32, client_cgroup String,
    client_addr String,      -- an address client's address; '' for a process
    name String,             -- case-folded, no final dot
    domain String,           -- registered domain (libpsl); '' when none
    peer String,             -- the server's address
    lookup UInt8,            -- a counted lookup (not a mirror, not a retransmission)
    first_of_name UInt8,     -- the client's first lookup of the name
    name_answer_ns UInt64,   -- a counted answer of the name target: the answered query's time
    domain_answer_ns UInt64  -- ... of the domain target
) ENGINE = MergeTree(day, (host, client_key, name, ts_ns), 8192);

CREATE TABLE IF NOT EXISTS dns.messages AS dns.messages_local
    ENGINE = Distributed({cluster}, dns, messages_local, cityHash64(host));

-- Per client x target (kind 0 name, 1 registered domain, 2 peer) and UTC
-- hour: the counted lookups. Hour counts give the days' 24 hourly counts
-- and the hour-of-week histograms. Keyed by client_key alone: the client's
-- identity is in clients_local, once per client and day, not in every
-- pair's group (six more strings to hash per lookup and target).
CREATE TABLE IF NOT EXISTS dns.pair_hours_local (
    day Date,
    hour UInt32,             -- hours since the epoch
    host String,
    client_key UInt64,
    kind UInt8,
    target String,
    lookups AggregateFunction(count),
    names AggregateFunction(sum, UInt8),        -- first lookups of a name under the target
    first_ns AggregateFunction(min, UInt64),
    last_ns AggregateFunction(max, UInt64)
) ENGINE = AggregatingMergeTree(day, (host, client_key, kind, target, hour), 8192);

CREATE MATERIALIZED VIEW IF NOT EXISTS dns.pair_hours_mv TO dns.pair_hours_local AS
SELECT day, toUInt32(intDiv(ts_ns, 3600000000000)) AS hour, host, client_key,
       t.1 AS kind, t.2 AS target,
       countState() AS lookups, sumState(first_of_name) AS names,
       minState(ts_ns) AS first_ns, maxState(ts_ns) AS last_ns
FROM dns.messages_local
ARRAY JOIN [(toUInt8(0), name), (toUInt8(1), domain), (toUInt8(2), peer)] AS t
WHERE lookup = 1 AND t.2 != ''
GROUP BY day, hour, host, client_key, kind, target;

CREATE TABLE IF NOT EXISTS dns.pair_hours AS dns.pair_hours_local
    ENGINE = Distributed({cluster}, dns, pair_hours_local, cityHash64(host));

-- Per client (host, client_key) and UTC day, from its counted name
-- lookups: its identity, its last pid (a process client) and its distinct
-- clock hours with lookups (exclusive_client's min_hours).
CREATE TABLE IF NOT EXISTS dns.clients_local (
    day Date,
    host String,
    client_key UInt64,
    -- the identity, as messages' client_* columns (named apart from them:
    -- the view's aliases would otherwise hide the source columns)
    process AggregateFunction(any, UInt8),
    comm AggregateFunction(any, String),
    uid AggregateFunction(any, UInt32),
    cgroup AggregateFunction(any, String),
    addr AggregateFunction(any, String),
    pid AggregateFunction(argMax, UInt32, UInt64),  -- a process client's last pid
    hours AggregateFunction(uniqExact, UInt32)      -- hours since the epoch
) ENGINE = AggregatingMergeTree(day, (host, client_key, day), 8192);

CREATE MATERIALIZED VIEW IF NOT EXISTS dns.clients_mv TO dns.clients_local AS
SELECT day, host, client_key,
       anyState(client_process) AS process, anyState(client_comm) AS comm,
       anyState(client_uid) AS uid, anyState(client_cgroup) AS cgroup,
       anyState(client_addr) AS addr,
       argMaxState(if(client_process = 1, pid, toUInt32(0)), ts_ns) AS pid,
       uniqExactState(toUInt32(intDiv(ts_ns, 3600000000000))) AS hours
FROM dns.messages_local
WHERE lookup = 1 AND name != ''
GROUP BY day, host, client_key;

CREATE TABLE IF NOT EXISTS dns.clients AS dns.clients_local
    ENGINE = Distributed({cluster}, dns, clients_local, cityHash64(host));

-- Per name / domain target, host and UTC day: the counted answers (NOERROR,
-- NXDOMAIN), the last NOERROR-answered lookup (by response time), and the
-- NXDOMAIN responses' times (replacement's nx_after).
CREATE TABLE IF NOT EXISTS dns.target_answers_local (
    day Date,
    host String,
    kind UInt8,
    target String,
    noerror AggregateFunction(sum, UInt8),
    nxdomain AggregateFunction(sum, UInt8),
    last_ok_ns AggregateFunction(argMax, UInt64, UInt64),  -- answered lookup, by response ts
    last_ok_at AggregateFunction(max, UInt64),             -- that response's ts
    nx_times AggregateFunction(groupArray, UInt64)         -- NXDOMAIN responses' ts
) ENGINE = AggregatingMergeTree(day, (kind, target, host, day), 8192);

CREATE MATERIALIZED VIEW IF NOT EXISTS dns.target_answers_mv TO dns.target_answers_local AS
SELECT day, host, t.1 AS kind, t.2 AS target,
       sumState(toUInt8(rcode = 'NOERROR')) AS noerror,
       sumState(toUInt8(rcode = 'NXDOMAIN')) AS nxdomain,
       argMaxState(if(rcode = 'NOERROR', t.3, toUInt64(0)), if(rcode = 'NOERROR', ts_ns, toUInt64(0))) AS last_ok_ns,
       maxState(if(rcode = 'NOERROR', ts_ns, toUInt64(0))) AS last_ok_at,
       groupArrayState(if(rcode = 'NXDOMAIN', ts_ns, toUInt64(0))) AS nx_times
FROM dns.messages_local
ARRAY JOIN [(toUInt8(0), name, name_answer_ns), (toUInt8(1), domain, domain_answer_ns)] AS t
WHERE t.3 != 0 AND t.2 != ''
GROUP BY day, host, kind, target;

CREATE TABLE IF NOT EXISTS dns.target_answers AS dns.target_answers_local
    ENGINE = Distributed({cluster}, dns, target_answers_local, cityHash64(host));

-- Per name / domain target and host: its answer addresses, first_key the first
-- answer holding it (ts_ns * 8 + its place in the answer), so that the
-- first four distinct addresses are the detectors' (replacement).
CREATE TABLE IF NOT EXISTS dns.answer_addrs_local (
    day Date,
    host String,
    kind UInt8,
    target String,
    addr String,
    first_key AggregateFunction(min, UInt64),
    last_ns AggregateFunction(max, UInt64)
) ENGINE = AggregatingMergeTree(day, (kind, target, host, addr, day), 8192);

CREATE MATERIALIZED VIEW IF NOT EXISTS dns.answer_addrs_mv TO dns.answer_addrs_local AS
SELECT day, host, e.1 AS kind, e.2 AS target, e.4 AS addr,
       minState(toUInt64(ts_ns * 8 + e.5 - 1)) AS first_key, maxState(e.3) AS last_ns
FROM dns.messages_local
ARRAY JOIN arrayConcat(
    arrayMap((x, i, t, ns) -> (toUInt8(0), t, ns, x, i), answers, arrayEnumerate(answers),
             replicate(name, answers), replicate(name_answer_ns, answers)),
    arrayMap((x, i, t, ns) -> (toUInt8(1), t, ns, x, i), answers, arrayEnumerate(answers),
             replicate(domain, answers), replicate(domain_answer_ns, answers))) AS e
WHERE rcode = 'NOERROR' AND e.3 != 0 AND e.2 != ''
GROUP BY day, host, kind, target, addr;

CREATE TABLE IF NOT EXISTS dns.answer_addrs AS dns.answer_addrs_local
    ENGINE = Distributed({cluster}, dns, answer_addrs_local, cityHash64(host));

-- Statistics records (interval closes), as the sink gets them.
CREATE TABLE IF NOT EXISTS dns.stats_local (
    batch UInt64,
    host String,
    ts String,               -- the record's ts (RFC 3339)
    ts_ns UInt64,            -- the same in ns
    day Date,                -- its UTC day
    type String,             -- the record's type (process_stats, ...)
    table String,            -- its table, '' when it has none
    json String              -- the whole record
) ENGINE = MergeTree(day, (host, type, ts_ns), 8192);

CREATE TABLE IF NOT EXISTS dns.stats AS dns.stats_local
    ENGINE = Distributed({cluster}, dns, stats_local, cityHash64(host));

-- Current ClickHouse (20.x and later) differs:
--   ENGINE = MergeTree PARTITION BY toYYYYMM(day) ORDER BY (host, client_key, name, ts_ns)
--            TTL day + INTERVAL 90 DAY
--   (the same for the AggregatingMergeTree tables), DateTime64(9) could
--   replace ts_ns, LowCardinality(String) suits dir, proto, opcode, rcode,
--   qtype, qclass, source, and SimpleAggregateFunction(any, ...) the
--   client identity columns; window functions could replace arraySort in
--   the queries. See docs/fleet.md.
