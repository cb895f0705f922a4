"""Read models for images: tables (DDL) and how each event changes them (FOLDS)."""

from cloud.projections.folds import Fold

DDL = ""
FOLDS: dict[str, Fold] = {}
