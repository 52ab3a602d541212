//! State backends: SQLite (the embedded default), PostgreSQL (teams) and in-memory (tests),
//! all implementing `tenantform_engine::state::StateBackend`.
