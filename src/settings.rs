//! Deployment-wide settings from `schedules/settings.toml` (optional; every key has a default).
