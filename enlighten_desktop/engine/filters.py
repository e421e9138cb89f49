"""The filters the engine runs around the model, as one value that travels from the front ends to the tiles.

Every photo is enhanced with a ``Filters``: shadow smoothing before the model (``smoothing``: a level, or
one chosen per photo), the photo's own colour (``colour``), then colour and luminance noise reduction after it
(``noise``). A kept full-size result
serves an export only when it was made with the same filters, and a CLI batch is resumed only with the same
ones, so they are compared and stored as one value rather than as separate arguments.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace

import numpy as np

from enlighten_desktop.engine.colour import DEFAULT_PHOTO_COLOUR_AMOUNT
from enlighten_desktop.engine.noise import DEFAULT_COLOUR_AMOUNT, check_amount
from enlighten_desktop.engine.smoothing import auto_levels, check_levels, levels_text


@dataclass(frozen=True)
class Filters:
    """0 turns a filter off; values out of range raise ValueError when the value is made."""

    smoothing: float = 0.0
    """Shadow smoothing in 8-bit levels, before the model (``smoothing.smooth_shadows``)."""
    auto_smoothing: bool = False
    """Shadow smoothing at the level the photo's darkness calls for (``smoothing.auto_levels``) instead."""
    photo_colour: float = 0.0
    """The photo's own colour on the model's luma, 0 to 1, after the model (``colour.keep_photo_colour``)."""
    colour_noise: float = 0.0
    """Colour noise reduction, 0 to 1, after the model and photo colour (``noise.reduce_colour_noise``)."""
    luminance_noise: float = 0.0
    """Luminance noise reduction, 0 to 1, after the model (``noise.reduce_luminance_noise``)."""

    def __post_init__(self) -> None:
        check_levels(self.smoothing)
        if self.auto_smoothing and self.smoothing:
            raise ValueError("shadow smoothing is either automatic or a number of levels, not both")
        check_amount(self.photo_colour, "photo colour")
        check_amount(self.colour_noise, "colour noise reduction")
        check_amount(self.luminance_noise, "luminance noise reduction")

    @classmethod
    def chosen(
        cls, *, smoothing: float | None, photo_colour: float, colour_noise: float, luminance_noise: float
    ) -> Filters:
        """The filters a front end's choices make: ``smoothing`` in levels, or None for automatic."""
        return cls(smoothing=smoothing or 0.0, auto_smoothing=smoothing is None, photo_colour=photo_colour,
                   colour_noise=colour_noise, luminance_noise=luminance_noise)

    def describe(self, rgb: np.ndarray | None = None) -> str:
        """The filters that are on, for people: "shadow smoothing automatic, colour noise reduction 100 %"
        ("" when none is); with the photo ``rgb``, the automatic level it gets: "shadow smoothing automatic
        (1 level)"."""
        if self.auto_smoothing:
            levels = None if rgb is None else auto_levels(rgb)
            chosen = "" if levels is None else " (none for this photo)" if levels == 0 else (
                f" ({levels_text(levels)})")
            parts = [f"shadow smoothing automatic{chosen}"]
        else:
            parts = [f"shadow smoothing {self.smoothing:g}"] if self.smoothing else []
        if self.photo_colour:
            parts.append(f"photo colour {self.photo_colour * 100:g} %")
        if self.colour_noise:
            parts.append(f"colour noise reduction {self.colour_noise * 100:g} %")
        if self.luminance_noise:
            parts.append(f"luminance noise reduction {self.luminance_noise * 100:g} %")
        return ", ".join(parts)

    @property
    def may_smooth(self) -> bool:
        """Whether shadow smoothing may run (a level, or automatic)."""
        return bool(self.smoothing or self.auto_smoothing)

    def for_photo(self, rgb: np.ndarray) -> Filters:
        """These filters with automatic smoothing settled as a level for the photo ``rgb`` (H x W x 3 float32
        [0, 1]: the whole photo, so that its tiles share one level)."""
        if not self.auto_smoothing:
            return self
        return replace(self, smoothing=auto_levels(rgb), auto_smoothing=False)

    @property
    def cleans_output(self) -> bool:
        """Whether a filter runs on the model's output (photo colour or noise reduction)."""
        return bool(self.photo_colour or self.cleans_noise)

    @property
    def cleans_noise(self) -> bool:
        """Whether a noise filter runs: those read around each pixel (photo colour works pixel by pixel)."""
        return bool(self.colour_noise or self.luminance_noise)

    def as_json(self) -> dict[str, float | bool]:
        """The filters as a JSON-able dict (a CLI batch's identity)."""
        return asdict(self)


NO_FILTERS = Filters()
"""The engine's own default: the model's output as it is."""
DEFAULT_FILTERS = Filters(auto_smoothing=True, photo_colour=DEFAULT_PHOTO_COLOUR_AMOUNT,
                          colour_noise=DEFAULT_COLOUR_AMOUNT)
"""What the front ends use unless told otherwise (the app's first start, ``enhance``, ``edit``, ``bench``):
automatic shadow smoothing (only the darkest photos are smoothed), photo colour and colour noise reduction
on, luminance noise reduction off."""
