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
    # The operator's allocation ratios for this host (None: the scheduler's default).
    cpu_allocation_ratio: float | None = None
    ram_allocation_ratio: float | None = None
    disk_allocation_ratio: float | None = None


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


class ActionDone(Report, frozen=True, kw_only=True, tag="action_done"):
    """The host finished an action; ``event`` names the past-tense event to record."""

    instance_id: str
    event: str
    power_state: int
    image_ref: str | None = None


class ActionFailed(Report, frozen=True, kw_only=True, tag="action_failed"):
    """The host could not finish the action that ran as ``task_state``."""

    instance_id: str
    task_state: str
    message: str


class PowerStates(Report, frozen=True, kw_only=True, tag="power_states"):
    """Every guest the hypervisor holds, with its power_state (a periodic, full report:
    the conductor compares it with what the log says)."""

    guests: dict[str, int]


AnyReport = (Registered | Heartbeat | Spawned | SpawnFailed | Deleted | ActionDone
             | ActionFailed | PowerStates)
decode = msgspec.json.Decoder(AnyReport).decode
encode = msgspec.json.Encoder().encode


def kind(report: Report) -> str:
    """The report's tag, used as the last subject token."""
    return type(report).__struct_config__.tag  # type: ignore[return-value]
