"""The domain's errors: few, with fields, mapped to HTTP in exactly one place."""


class DomainError(Exception):
    """Base of every refusal the domain can give."""


class NotFound(DomainError):
    def __init__(self, kind: str, key: str) -> None:
        super().__init__(f"{kind} {key} could not be found.")
        self.kind = kind
        self.key = key


class InvalidTransition(DomainError):
    def __init__(self, instance_id: str, vm_state: str, action: str) -> None:
        super().__init__(
            f"Cannot '{action}' instance {instance_id} while it is in vm_state {vm_state}"
        )
        self.instance_id = instance_id
        self.vm_state = vm_state
        self.action = action


class Invalid(DomainError):
    """A request the domain cannot accept as given (a 400 at the API)."""


class HostFull(DomainError):
    def __init__(self, host: str, resource: str) -> None:
        super().__init__(f"Host {host} lacks {resource}")
        self.host = host
        self.resource = resource


class Conflict(DomainError):
    """Another writer saved a newer version of the aggregate first."""
