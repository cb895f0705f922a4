"""Read models for quotas: tables (DDL) and how each event changes them (FOLDS)."""

from cloud.projections.folds import Fold

DDL = ""
FOLDS: dict[str, Fold] = {}
