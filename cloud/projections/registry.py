"""Every read model, assembled: the tables to create and the fold for each event name."""

from cloud.projections import folds, identity, images, keypairs, quotas, schema

FOLDS = {**folds.FOLDS, **identity.FOLDS, **images.FOLDS, **quotas.FOLDS,
         **keypairs.FOLDS}
DDL = [schema.READ_MODEL_DDL, schema.SERVICES_DDL, identity.DDL, images.DDL, quotas.DDL,
       keypairs.DDL]
