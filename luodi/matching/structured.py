"""Structured fit between a query and candidate records, each part in [0, 1].

Every function takes the query's value and the candidates' values as arrays and returns one
float per candidate. ``0.5`` means "no evidence either way" (the candidate does not say), so an
unfilled field neither helps nor hurts. When the *query* does not say (no wanted TRL, no field),
the part is left out of the blend altogether (the callers return ``None``), so records are never
reordered by a criterion nobody asked for.

Region codes are GB/T 2260 six-digit strings stored as integers (0 = unknown); fields and
transfer modes are small integer codes assigned by :class:`Vocabulary`.
"""

from __future__ import annotations

import datetime as dt

import numpy as np

__all__ = ["JJJ_PROVINCES", "Vocabulary", "field_fit", "freshness", "mode_fit", "region_fit",
           "trl_fit"]

UNKNOWN = 0.5
# Beijing, Tianjin, Hebei: the plan's 京津冀 region (first two digits of a GB/T 2260 code).
JJJ_PROVINCES = frozenset({11, 12, 13})
# A TRL this far below the wanted one scores zero; each level short costs a third.
TRL_SLACK = 3
# Freshness halves every this many days since the record was last confirmed.
FRESH_HALF_LIFE_DAYS = 365


class Vocabulary:
    """Small integer codes for strings (0 is reserved for "unknown")."""

    def __init__(self) -> None:
        self._codes: dict[str, int] = {}

    def code(self, value: str | None) -> int:
        """The code of ``value``, assigning a new one on first sight; 0 for None or ''."""
        if not value:
            return 0
        return self._codes.setdefault(value, len(self._codes) + 1)

    def lookup(self, value: str | None) -> int:
        """The code of ``value`` without assigning one (-1 when never seen)."""
        if not value:
            return 0
        return self._codes.get(value, -1)

    def mask(self, values: list[str] | tuple[str, ...] | frozenset[str] | set[str], *,
             assign: bool = True) -> int:
        """A bit mask with one bit per value (codes above 62 share the last bit).

        Without ``assign`` (a query's values), values never seen get no bit.
        """
        bits = 0
        for value in values:
            code = self.code(value) if assign else self.lookup(value)
            if code > 0:
                bits |= 1 << min(code, 62)
        return bits

    def to_dict(self) -> dict[str, int]:
        """The assignments, for saving."""
        return dict(self._codes)

    @classmethod
    def from_dict(cls, codes: dict[str, int]) -> Vocabulary:
        """A vocabulary with the given assignments."""
        vocab = cls()
        vocab._codes = dict(codes)
        return vocab


def field_fit(wanted: int, fields: np.ndarray) -> np.ndarray | None:
    """1 where the candidate is in the wanted field, 0 where it is in another, 0.5 unknown."""
    if wanted == 0:
        return None
    out = np.where(fields == wanted, 1.0, 0.0)
    out[fields == 0] = UNKNOWN
    return out


def trl_fit(offered: int | np.ndarray, wanted: int | np.ndarray) -> np.ndarray:
    """1 when the offered TRL reaches the wanted one, a third less per level short, 0.5 unknown.

    One side is the query's single value, the other the candidates' array: a demand asks
    achievements (wanted fixed, offered per candidate); an achievement offers itself to demands
    (offered fixed, wanted per candidate). 0 means unknown.
    """
    offered_a, wanted_a = np.broadcast_arrays(np.asarray(offered, np.float64),
                                              np.asarray(wanted, np.float64))
    short = np.clip(wanted_a - offered_a, 0, None)
    out = np.clip(1.0 - short / TRL_SLACK, 0.0, 1.0)
    out[(offered_a == 0) | (wanted_a == 0)] = UNKNOWN
    return out


# How two GB/T 2260 codes relate, most specific first, and what each relation scores.
REGION_RELATIONS = ("same_city", "same_province", "jjj", "other", "unknown")
_REGION_SCORES = np.array([1.0, 0.8, 0.6, 0.0, UNKNOWN])


def region_code(value: str | None) -> int:
    """A six-digit GB/T 2260 code as an integer; 0 for none or anything else."""
    return int(value) if value and value.isdigit() else 0


def region_relations(wanted: int, regions: np.ndarray) -> np.ndarray:
    """Index into REGION_RELATIONS per candidate: same city (first four digits), same
    province (first two), both in 京津冀, other, or unknown (the candidate has no region)."""
    regions = np.asarray(regions, np.int64)
    both_jjj = np.isin(regions // 10000, list(JJJ_PROVINCES)) & (wanted // 10000 in JJJ_PROVINCES)
    return np.select([regions == 0, regions // 100 == wanted // 100,
                      regions // 10000 == wanted // 10000, both_jjj], [4, 0, 1, 2], default=3)


def region_fit(wanted: int, regions: np.ndarray) -> np.ndarray | None:
    """Same city 1, same province 0.8, both in 京津冀 0.6, else 0 (0.5 unknown)."""
    if not wanted:
        return None
    return _REGION_SCORES[region_relations(wanted, regions)]


def mode_fit(wanted: int, modes: np.ndarray) -> np.ndarray | None:
    """1 when the candidate offers one of the wanted transfer modes, 0 when none, 0.5 unknown."""
    if not wanted:
        return None
    modes = modes.astype(np.int64)
    out = np.where((modes & wanted) != 0, 1.0, 0.0)
    out[modes == 0] = UNKNOWN
    return out


def freshness(confirmed: np.ndarray, today: dt.date) -> np.ndarray:
    """``0.5 ** (days since confirmed / half-life)``; 0.5 when the date is unknown (0)."""
    age = np.clip(today.toordinal() - confirmed.astype(np.float64), 0, None)
    out = np.power(0.5, age / FRESH_HALF_LIFE_DAYS)
    out[confirmed == 0] = UNKNOWN
    return out
