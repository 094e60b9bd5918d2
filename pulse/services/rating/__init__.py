"""Rating: a tap becomes a sealed inbox item (record, reasons, kiosk); the mixer adds items to the tallies."""

from pulse.services.rating.errors import (
    AlreadyRated,
    DeviceSecretNeeded,
    EnrolmentNeeded,
    NoOpenShift,
    RatingNotFound,
    RatingRefused,
    ReasonsAlreadyAdded,
    ShiftClosed,
    ShiftFull,
    StaleKey,
    TeamNotReady,
    TokenInvalid,
    TokensNotUsed,
    UnknownJoinCode,
    UnknownReason,
    WrongSlot,
)
from pulse.services.rating.inbox import EpochCache, NoOpenEpoch, StaleEpoch, oldest_pending_epoch
from pulse.services.rating.keyfiles import KeyFiles
from pulse.services.rating.keys import KeyCache, purge_expired
from pulse.services.rating.mixer import MixReport, Schedule, ensure_open_epoch, mix
from pulse.services.rating.postgres import PostgresRatings
from pulse.services.rating.reasons import ReasonsRequest, add_reasons
from pulse.services.rating.record import Clock, RatingPath, RatingReceipt, RatingRequest, record_rating
from pulse.services.rating.sealing import derive_pepper

__all__ = [
    "AlreadyRated",
    "Clock",
    "DeviceSecretNeeded",
    "EnrolmentNeeded",
    "EpochCache",
    "KeyCache",
    "KeyFiles",
    "MixReport",
    "NoOpenEpoch",
    "NoOpenShift",
    "PostgresRatings",
    "RatingNotFound",
    "RatingPath",
    "RatingReceipt",
    "RatingRefused",
    "RatingRequest",
    "ReasonsAlreadyAdded",
    "ReasonsRequest",
    "Schedule",
    "ShiftClosed",
    "ShiftFull",
    "StaleEpoch",
    "StaleKey",
    "TeamNotReady",
    "TokenInvalid",
    "TokensNotUsed",
    "UnknownJoinCode",
    "UnknownReason",
    "WrongSlot",
    "add_reasons",
    "derive_pepper",
    "ensure_open_epoch",
    "mix",
    "oldest_pending_epoch",
    "purge_expired",
    "record_rating",
]
