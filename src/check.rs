//! `shengbo check`: schedules, catalog and directory checked together, grouped by file.
