//! The ledger: the durable record of runs, deliveries, attempts, acks, state reports and reach,
//! written before anything is sent. SQLite (WAL) behind one narrow interface.
