"""What compute agents tell the conductor, as tagged msgspec Structs on NATS."""

import msgspec


class Report(msgspec.Struct, frozen=True, kw_only=True, tag_field="report"):
    host: str
    request_id: str | None = None


class Registered(Report, frozen=True, kw_only=True, tag="registered"):
    hypervisor_type: str
    hypervisor_hostname: str
    vcpus: int
    memory_mb: int
    disk_gb: int


class Heartbeat(Report, frozen=True, kw_only=True, tag="heartbeat"):
    pass


class Spawned(Report, frozen=True, kw_only=True, tag="spawned"):
    instance_id: str
    power_state: int


class SpawnFailed(Report, frozen=True, kw_only=True, tag="spawn_failed"):
    instance_id: str
    message: str


class Deleted(Report, frozen=True, kw_only=True, tag="deleted"):
    instance_id: str


AnyReport = Registered | Heartbeat | Spawned | SpawnFailed | Deleted
decode = msgspec.json.Decoder(AnyReport).decode
encode = msgspec.json.Encoder().encode


def kind(report: Report) -> str:
    """The report's tag, used as the last subject token."""
    return type(report).__struct_config__.tag  # type: ignore[return-value]
