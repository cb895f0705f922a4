"""The domain's errors: few, with fields, mapped to HTTP in exactly one place."""


class DomainError(Exception):
    """Base of every refusal the domain can give."""


class NotFound(DomainError):
    def __init__(self, kind: str, key: str) -> None:
        super().__init__(f"{kind} {key} could not be found.")
        self.kind = kind
        self.key = key


class InvalidTransition(DomainError):
    def __init__(self, instance_id: str, vm_state: str | None, action: str, *,
                 attribute: str = "vm_state") -> None:
        super().__init__(
            f"Cannot '{action}' instance {instance_id} while it is in {attribute} {vm_state}"
        )
        self.instance_id = instance_id
        self.vm_state = vm_state
        self.action = action


class InstanceLocked(DomainError):
    """Only an admin may act on a locked server (a 409 for everyone else)."""

    def __init__(self, instance_id: str) -> None:
        super().__init__(f"Instance {instance_id} is locked")
        self.instance_id = instance_id


class NotAllowed(DomainError):
    """The caller's role does not allow this, whatever the target's state (a 403)."""


class Invalid(DomainError):
    """A request the domain cannot accept as given (a 400 at the API)."""


class HostFull(DomainError):
    def __init__(self, host: str, resource: str) -> None:
        super().__init__(f"Host {host} lacks {resource}")
        self.host = host
        self.resource = resource


class Conflict(DomainError):
    """Another writer saved a newer version of the aggregate first."""


class Duplicate(DomainError):
    """Something with that name exists already (a 409 at the API)."""


class KeypairExists(Duplicate):
    def __init__(self, name: str) -> None:
        super().__init__(f"Key pair '{name}' already exists.")
        self.name = name


class KeypairNotFound(NotFound):
    def __init__(self, user_id: str, name: str) -> None:
        DomainError.__init__(self, f"Keypair {name} not found for user {user_id}")
        self.kind, self.key, self.user_id = "Keypair", name, user_id


class ServerItemNotFound(NotFound):
    """A metadata item or tag the server does not have (404 in Nova's own words)."""

    def __init__(self, kind: str, key: str, message: str) -> None:
        DomainError.__init__(self, message)
        self.kind, self.key = kind, key


class QuotaExceeded(DomainError):
    """A request that would take a project past its quota (a 403 at the API)."""


class InstanceNotReady(InvalidTransition):
    """The instance has no host yet (or never got one): nothing to ask (a 409)."""

    def __init__(self, instance_id: str, vm_state: str | None, action: str) -> None:
        DomainError.__init__(self, f"Instance {instance_id} is not ready")
        self.instance_id, self.vm_state, self.action = instance_id, vm_state, action
