"""Read-model tables. Every projection can be dropped and rebuilt from the log."""

READ_MODEL_DDL = """
CREATE TABLE IF NOT EXISTS projection_tracking (
    name text PRIMARY KEY,
    position bigint NOT NULL
);
CREATE TABLE IF NOT EXISTS servers (
    id uuid PRIMARY KEY,
    name text NOT NULL,
    project_id text NOT NULL,
    user_id text NOT NULL,
    flavor jsonb NOT NULL,
    image_ref text NOT NULL,
    vm_state text NOT NULL,
    task_state text,
    power_state int NOT NULL DEFAULT 0,
    host text,
    node text,
    metadata jsonb NOT NULL DEFAULT '{}',
    availability_zone text,
    key_name text,
    fault jsonb,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    launched_at timestamptz,
    terminated_at timestamptz,
    request_id text,
    version int NOT NULL
);
CREATE INDEX IF NOT EXISTS servers_listing ON servers (project_id, created_at DESC, id DESC);
-- Columns added with microversions 2.3 and 2.19 (tables of earlier releases gain them).
ALTER TABLE servers
    ADD COLUMN IF NOT EXISTS hostname text NOT NULL DEFAULT '',
    ADD COLUMN IF NOT EXISTS reservation_id text NOT NULL DEFAULT '',
    ADD COLUMN IF NOT EXISTS user_data text,
    ADD COLUMN IF NOT EXISTS description text;
CREATE TABLE IF NOT EXISTS flavors (
    flavorid text PRIMARY KEY,
    name text NOT NULL,
    vcpus int NOT NULL,
    ram int NOT NULL,
    disk int NOT NULL,
    ephemeral int NOT NULL,
    swap int NOT NULL,
    is_public boolean NOT NULL,
    description text,
    created_at timestamptz NOT NULL
);
-- Columns of the flavor API (rxtx_factor, extra specs, and ``seq``: creation order, Nova's
-- internal id, the tie-breaker of every flavor sort); access is in flavor_access.
ALTER TABLE flavors
    ADD COLUMN IF NOT EXISTS rxtx_factor double precision NOT NULL DEFAULT 1.0,
    ADD COLUMN IF NOT EXISTS extra_specs jsonb NOT NULL DEFAULT '{}',
    ADD COLUMN IF NOT EXISTS seq bigint NOT NULL DEFAULT 0;
CREATE TABLE IF NOT EXISTS hosts (
    name text PRIMARY KEY,
    hypervisor_type text NOT NULL,
    hypervisor_hostname text NOT NULL,
    vcpus int NOT NULL,
    memory_mb int NOT NULL,
    disk_gb int NOT NULL,
    vcpus_used int NOT NULL DEFAULT 0,
    memory_mb_used int NOT NULL DEFAULT 0,
    disk_gb_used int NOT NULL DEFAULT 0,
    running_vms int NOT NULL DEFAULT 0,
    failed_builds int NOT NULL DEFAULT 0,
    updated_at timestamptz NOT NULL
);
ALTER TABLE hosts ADD COLUMN IF NOT EXISTS failed_builds int NOT NULL DEFAULT 0;
ALTER TABLE hosts ADD COLUMN IF NOT EXISTS cpu_allocation_ratio double precision;
ALTER TABLE hosts ADD COLUMN IF NOT EXISTS ram_allocation_ratio double precision;
ALTER TABLE hosts ADD COLUMN IF NOT EXISTS disk_allocation_ratio double precision;
CREATE TABLE IF NOT EXISTS host_claims (
    host text NOT NULL,
    instance_id uuid NOT NULL,
    vcpus int NOT NULL,
    memory_mb int NOT NULL,
    disk_gb int NOT NULL,
    kind text NOT NULL DEFAULT '',
    PRIMARY KEY (host, instance_id, kind)
);
CREATE INDEX IF NOT EXISTS host_claims_instance ON host_claims (instance_id);
"""

# Liveness is not history: heartbeats overwrite one row per service and are not events.
SERVICES_DDL = """
CREATE TABLE IF NOT EXISTS services (
    host text NOT NULL,
    binary_name text NOT NULL,
    last_seen_at timestamptz NOT NULL,
    PRIMARY KEY (host, binary_name)
);
"""
