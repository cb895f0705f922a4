"""Every read model, assembled: the tables to create and the fold for each event name."""

from cloud.projections import flavors, folds, identity, images, keypairs, quotas, schema
from cloud.projections import server_actions
from cloud.projections import aggregates, changes
from cloud.projections import instance_actions
from cloud.projections import server_attributes
from cloud.projections import services as compute_services
from cloud.projections.folds import Fold


def _merged(*tables: dict[str, Fold]) -> dict[str, Fold]:
    """One fold per event name: when several read models fold one event, each runs, in
    the order the tables are given (the servers row exists before others touch it)."""
    found: dict[str, list[Fold]] = {}
    for table in tables:
        for name, fold in table.items():
            found.setdefault(name, []).append(fold)
    return {name: chain[0] if len(chain) == 1 else _chained(chain)
            for name, chain in found.items()}


def _chained(chain: list[Fold]) -> Fold:
    def fold(cur, env) -> None:
        for each in chain:
            each(cur, env)
    return fold


FOLDS = {**folds.FOLDS, **identity.FOLDS, **images.FOLDS, **quotas.FOLDS,
         **keypairs.FOLDS, **server_actions.FOLDS, **compute_services.FOLDS, **flavors.FOLDS}
# Aggregates fold some instance events too (hints, zones): beside, not instead.
FOLDS = _merged(FOLDS, aggregates.FOLDS)
# Instance actions fold instance events after the servers row is written.
FOLDS = _merged(FOLDS, instance_actions.FOLDS)
DDL = [schema.READ_MODEL_DDL, server_actions.DDL, schema.SERVICES_DDL, identity.DDL,
       images.DDL, quotas.DDL, keypairs.DDL, compute_services.DDL, flavors.DDL, aggregates.DDL]
DDL.append(instance_actions.DDL)
# Users' edits of servers (update, metadata, tags) and their create-time attributes.
FOLDS = _merged(FOLDS, server_attributes.FOLDS)
DDL.append(server_attributes.DDL)
# What the scheduler's host cache watches (see changes.py): every aggregate and service
# state event marks its topic.
FOLDS = _merged(FOLDS, {name: changes.marking(changes.AGGREGATES)
                        for name in aggregates.FOLDS if name.startswith("Aggregate")},
                {name: changes.marking(changes.SERVICE_STATES) for name in compute_services.FOLDS})
DDL.append(changes.DDL)
