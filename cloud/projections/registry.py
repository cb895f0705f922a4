"""Every read model, assembled: the tables to create and the folds for each event name.

``FOLDS`` folds one event (every read model's fold of it, in order); ``SETWISE`` folds
many events of a name at once, for the names every read model folding them can fold
that way (see setwise.py); ``NEWBORN`` is what is left of those of a server's life when
the server is folded in the client (newborn.py).
"""

from cloud.projections import flavors, folds, host_usage, identity, images, keypairs
from cloud.projections import quotas, schema, server_actions
from cloud.projections import aggregates, changes
from cloud.projections import instance_actions, newborn
from cloud.projections import server_attributes
from cloud.projections import services as compute_services
from cloud.projections.changes import position
from cloud.projections.folds import Fold
from cloud.projections.setwise import Folded, SetFold, chained

Layer = tuple[dict[str, Fold], dict[str, SetFold]]

# In the order their folds of one event run: the servers row exists before others
# touch it, and instance actions read it.
LAYERS: list[Layer] = [
    ({**folds.FOLDS, **identity.FOLDS, **images.FOLDS, **quotas.FOLDS, **keypairs.FOLDS,
      **server_actions.FOLDS, **compute_services.FOLDS, **flavors.FOLDS},
     {**folds.SETWISE, **host_usage.SETWISE}),
    ({}, folds.HOSTS_SETWISE),
    # Aggregates fold some instance events too (hints, zones): beside, not instead.
    (aggregates.FOLDS, aggregates.SETWISE),
    (instance_actions.FOLDS, instance_actions.SETWISE),
    # Users' edits of servers (update, metadata, tags).
    (server_attributes.FOLDS, {}),
    # What the scheduler's host cache watches (see changes.py): every aggregate and
    # service state event marks its topic.
    ({**{name: changes.marking(changes.AGGREGATES)
         for name in aggregates.FOLDS if name.startswith("Aggregate")},
      **{name: changes.marking(changes.SERVICE_STATES) for name in compute_services.FOLDS}},
     {}),
]
DDL = [schema.READ_MODEL_DDL, server_actions.DDL, schema.SERVICES_DDL, identity.DDL,
       images.DDL, quotas.DDL, keypairs.DDL, compute_services.DDL, flavors.DDL, aggregates.DDL,
       instance_actions.DDL, server_attributes.DDL, changes.DDL]


def _one_at_a_time(fold: SetFold) -> Fold:
    def run(cur, env) -> None:
        fold.run(cur, [Folded(position(), env)])
    return run


def _chained(chain: list[Fold]) -> Fold:
    if len(chain) == 1:
        return chain[0]

    def fold(cur, env) -> None:
        for each in chain:
            each(cur, env)
    return fold


def _assemble(layers: list[Layer]) -> tuple[dict[str, Fold], dict[str, SetFold],
                                           dict[str, SetFold]]:
    chains: dict[str, list[Fold | SetFold]] = {}
    for one_by_one, setwise in layers:
        for name in {*one_by_one, *setwise}:
            chains.setdefault(name, []).append(setwise.get(name) or one_by_one[name])
    each = {name: _chained([_one_at_a_time(f) if isinstance(f, SetFold) else f
                            for f in chain]) for name, chain in chains.items()}
    many = {name: chained(chain) for name, chain in chains.items()  # type: ignore[arg-type]
            if all(isinstance(f, SetFold) for f in chain)}
    rest = {name: chained(left) for name in newborn.NAMES
            if (left := [f for f in chains[name] if id(f) not in newborn.TAKES_OVER])}
    return each, many, rest  # type: ignore[return-value]


# NEWBORN: for a server folded in the client (newborn.py), the set-wise folds of each of
# its events that are left to run as statements.
FOLDS, SETWISE, NEWBORN = _assemble(LAYERS)
