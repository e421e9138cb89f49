"""The filters the engine runs around the model, as one value that travels from the front ends to the tiles.

Every photo is enhanced with a ``Filters``: shadow smoothing before the model (``smoothing``), colour and
luminance noise reduction after it (``noise``). A kept full-size result serves an export only when it was
made with the same filters, and a CLI batch is resumed only with the same ones, so they are compared and
stored as one value rather than as separate arguments.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from enlighten_desktop.engine.noise import DEFAULT_COLOUR_AMOUNT, check_amount
from enlighten_desktop.engine.smoothing import check_levels


@dataclass(frozen=True)
class Filters:
    """0 turns a filter off; values out of range raise ValueError when the value is made."""

    smoothing: float = 0.0
    """Shadow smoothing in 8-bit levels, before the model (``smoothing.smooth_shadows``)."""
    colour_noise: float = 0.0
    """Colour noise reduction, 0 to 1, after the model (``noise.reduce_colour_noise``)."""
    luminance_noise: float = 0.0
    """Luminance noise reduction, 0 to 1, after the model (``noise.reduce_luminance_noise``)."""

    def __post_init__(self) -> None:
        check_levels(self.smoothing)
        check_amount(self.colour_noise, "colour noise reduction")
        check_amount(self.luminance_noise, "luminance noise reduction")

    @property
    def cleans_output(self) -> bool:
        """Whether a noise filter runs on the model's output."""
        return bool(self.colour_noise or self.luminance_noise)

    def as_json(self) -> dict[str, float]:
        """The filters as a JSON-able dict (a CLI batch's identity)."""
        return asdict(self)


NO_FILTERS = Filters()
"""The engine's own default: the model's output as it is."""
DEFAULT_FILTERS = Filters(colour_noise=DEFAULT_COLOUR_AMOUNT)
"""What the front ends use unless told otherwise (the app's first start, ``enhance``, ``edit``, ``bench``):
colour noise reduction on, the other filters off."""
