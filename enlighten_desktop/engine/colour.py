"""Photo colour after the lift: the model's brightness and detail, the photo's own hues.

The shipped generator lifts brightness and local contrast well but guesses colour: its last features carry
about two colour directions (warm against cool, and brightness), not the green-magenta one, so saturated
colours turn on their way up: a dark red toy comes out orange, teal turns sky blue, violet and green go grey
(resources/models/MODEL_CARD.md, "Photo colour"; fine-tuning with more colour in the loss did not move those
features). A photographer expects a brighter photo, not other colours. So, like a raw converter's exposure
and shadow sliders, the engine can take each lifted pixel's colour from the photo: its chroma per unit luma
(how colourful it is for its brightness, and in which hue) times ``PHOTO_COLOURFULNESS``, on the model's
luma. Luma, grain, texture and NIQE (which scores luma) stay the model's.

Each pixel moves by its weight (the attention times the amount), as the noise filters do: what the model
lifted takes the photo's colour, what it left alone (bright areas, a photo the exposure gate keeps) is not
touched, so a well-exposed photo does not lose colour. The photo's colour is trusted by its luma: fully from
``TRUSTED_LUMA``'s upper end, not at all below its lower end, where a pixel's chroma is a level or two of
sensor noise and quantisation that the lift (10 to 20 times there) would turn into a colour cast over the
blacks (a dark wall turned olive on a dev_real frame); there the model's colour, which is close to neutral,
stays. The colour noise filter, which runs after this one, cleans the noise lifted with the rest.
"""

from __future__ import annotations

import numpy as np

from enlighten_desktop.engine.attention import LUMA_601

PHOTO_COLOURFULNESS = 0.7
"""Chroma per unit luma of the result, as a share of the photo's: the colourfulness the shipped model was
trained toward (its tone target keeps 0.69 of it on dev_eval), so the filter turns hues back without making
the photo more vivid than the model's design; 1 would keep the photo's exactly."""
TRUSTED_LUMA = (0.02, 0.06)
"""The photo's luma (0..1) from which its colour starts to count (5 levels of 255; the tone target's floor)
and from which it counts fully (15 levels), smoothly in between."""
DEFAULT_PHOTO_COLOUR_AMOUNT = 1.0
"""The front ends' default (the app, ``enhance``, ``edit``): full strength, measured in the model card."""

_LUMA = LUMA_601.astype(np.float32)


def keep_photo_colour(output: np.ndarray, photo: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """``output`` (H x W x 3 float32 [0, 1], the model's result) with each pixel's chroma moved toward the
    photo's colour at the output's luma by ``weight`` (H x W [0, 1]) times the trust in the photo's colour
    (``TRUSTED_LUMA``); ``photo``: the same pixels as the model saw them. A new array with the output's luma
    (chroma is shrunk, never the luma, where the photo's colour at that brightness falls outside [0, 1]);
    equal to ``output`` where the weight is 0."""
    out: np.ndarray = output.copy()
    if not weight.any():
        return out
    luma = output @ _LUMA
    photo_luma = photo @ _LUMA
    low, high = TRUSTED_LUMA
    ramp = np.clip((photo_luma - np.float32(low)) / np.float32(high - low), 0.0, 1.0)
    trust = ramp * ramp * (3.0 - 2.0 * ramp)  # smoothstep
    trust *= weight
    gain = luma / np.maximum(photo_luma, np.float32(low))
    gain *= np.float32(PHOTO_COLOURFULNESS)
    chroma = photo - photo_luma[..., None]
    chroma *= gain[..., None]
    # The largest share of that chroma that keeps every channel in [0, 1] around this luma.
    highest, lowest = chroma.max(axis=2), chroma.min(axis=2)
    fits = np.ones_like(luma)
    np.minimum(fits, (1.0 - luma) / np.maximum(highest, np.float32(1e-6)), out=fits, where=highest > 0)
    np.minimum(fits, luma / np.maximum(-lowest, np.float32(1e-6)), out=fits, where=lowest < 0)
    np.maximum(fits, 0.0, out=fits)
    chroma *= fits[..., None]
    chroma += luma[..., None]
    chroma -= output
    chroma *= trust[..., None]
    out += chroma
    np.clip(out, 0.0, 1.0, out=out)
    return out
