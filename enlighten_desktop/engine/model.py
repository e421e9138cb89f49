"""Load an enhancement model (.onnx), check its checksum and contract, run one padded tile.

The contract is docs/MODEL_CONTRACT.md. The ONNX Runtime session is built once per loaded model and
reused for every tile and every image; it is rebuilt only to fall back to the CPU.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnxruntime as ort

from enlighten_desktop.engine.attention import ExposureGate
from enlighten_desktop.engine.errors import ModelError
from enlighten_desktop.engine.providers import (
    CPU,
    DEFAULT_SETTINGS,
    ProviderReport,
    SessionSettings,
    cpu_session,
    create_session,
    fall_back_report,
)
from enlighten_desktop.resources import models_dir

log = logging.getLogger(__name__)

CONTRACT_VERSION = "1"
# The values of the contract's fields that this engine implements: pipeline.py scales pixels to [-1, 1] and
# attention.default_attention computes 1 - Rec. 601 luma. A model made for anything else would run, and
# come out wrong, so it is refused.
INPUT_RANGE = "-1,1"
ATTENTION = "1-luma601"
_INPUTS = {"image": 3, "attention": 1}  # name -> channels
_OUTPUT = "enhanced"
_MODEL_FILES = {"fp32": "enlightengan.onnx", "int8": "enlightengan-int8.onnx"}


@dataclass(frozen=True)
class ModelContract:
    """The model's metadata (docs/MODEL_CONTRACT.md), parsed and checked."""

    name: str
    version: str
    precision: str
    input_range: str
    size_multiple: int
    receptive_margin: int
    tile_margin: int  # the margin tiles get: measured on real photos, else the receptive margin
    attention: str
    backbone: str
    width: int
    params: int
    trained_on: str
    exposure_gate: ExposureGate | None = None  # the photo-level gain on the default attention; None: none

    @classmethod
    def from_metadata(cls, meta: dict[str, str], path: Path) -> ModelContract:
        """Parse ``meta`` (ONNX metadata_props); ModelError naming ``path`` when it breaks the contract."""
        found = meta.get("enlighten.contract")
        if found != CONTRACT_VERSION:
            raise ModelError(
                f"{path} is not a model this version can use: it follows model contract "
                f"{found or 'none'}, this application needs contract {CONTRACT_VERSION}. "
                "Use a model exported for this version."
            )
        for field, supported in (("input_range", INPUT_RANGE), ("attention", ATTENTION)):
            given = meta.get(f"enlighten.{field}")
            if given is not None and given.replace(" ", "") != supported:
                raise ModelError(
                    f"{path} expects {field.replace('_', ' ')} '{given}', but this application provides "
                    f"'{supported}' (docs/MODEL_CONTRACT.md); use a model exported for it."
                )
        try:
            return cls(
                name=meta["enlighten.model_name"],
                version=meta["enlighten.model_version"],
                precision=meta["enlighten.precision"],
                input_range=meta["enlighten.input_range"],
                size_multiple=int(meta["enlighten.size_multiple"]),
                receptive_margin=int(meta["enlighten.receptive_margin"]),
                tile_margin=int(meta.get("enlighten.tile_margin", meta["enlighten.receptive_margin"])),
                attention=meta["enlighten.attention"],
                backbone=meta.get("enlighten.backbone", ""),
                width=int(meta.get("enlighten.width", "0")),
                params=int(meta.get("enlighten.params", "0")),
                trained_on=meta.get("enlighten.trained_on", ""),
                exposure_gate=_exposure_gate(meta.get("enlighten.exposure_gate")),
            )
        except (KeyError, ValueError) as exc:
            raise ModelError(
                f"{path} has incomplete or malformed model metadata ({exc}); re-export the model."
            ) from exc


def _exposure_gate(text: str | None) -> ExposureGate | None:
    """The optional ``enlighten.exposure_gate`` field; absent or empty: no gate (ValueError if malformed)."""
    return ExposureGate.parse(text) if text else None


def default_model_path(precision: str = "fp32") -> Path:
    """The shipped model for ``precision`` ("fp32" or "int8") in resources/models, frozen or not."""
    if precision not in _MODEL_FILES:
        raise ModelError(f"Unknown model precision '{precision}'; choose fp32 or int8.")
    return models_dir() / _MODEL_FILES[precision]


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _listed_checksums(path: Path) -> list[tuple[Path, str]]:
    """(list file, expected hex) for every checksum file that names ``path``: SHA256SUMS beside it and
    the ``<file>.sha256`` that ``training export`` writes."""
    found = []
    for listing in (path.parent / "SHA256SUMS", path.with_name(path.name + ".sha256")):
        if not listing.is_file():
            continue
        for line in listing.read_text(encoding="utf-8").splitlines():
            parts = line.split()
            if len(parts) == 2 and parts[1].lstrip("*") == path.name:
                found.append((listing, parts[0].lower()))
    return found


def checked_sha256(path: Path) -> str:
    """Return the file's SHA-256; ModelError when a checksum file disagrees, or when a model shipped in
    resources/models is not listed at all (a shipped model is always verified)."""
    actual = file_sha256(path)
    listed = _listed_checksums(path)
    if not listed and path.resolve().parent == models_dir().resolve():
        raise ModelError(
            f"{path.name} is not listed in {models_dir() / 'SHA256SUMS'}; the installation is incomplete. "
            "Reinstall the application."
        )
    for listing, expected in listed:
        if expected != actual:
            raise ModelError(
                f"The model file {path} is damaged or was replaced: its checksum does not match {listing}. "
                "Reinstall the application or download the model again."
            )
    return actual


class EnhancerModel:
    """A loaded model: its contract, checksum, the ONNX Runtime session and what provider runs it."""

    def __init__(
        self,
        *,
        path: Path,
        contract: ModelContract,
        sha256: str,
        session: ort.InferenceSession,
        provider: ProviderReport,
        settings: SessionSettings,
    ) -> None:
        self.path = path
        self.contract = contract
        self.sha256 = sha256
        self.provider = provider
        self.settings = settings
        self._session = session
        # One model is shared by the app's worker threads: the CPU fallback replaces the session (and the
        # report) once, under this lock, however many threads saw the GPU session fail.
        self._fallback_lock = threading.Lock()

    @classmethod
    def load(
        cls,
        path: Path | str,
        *,
        provider: str = "auto",
        device: int = 0,
        verify_checksum: bool = True,
        settings: SessionSettings = DEFAULT_SETTINGS,
    ) -> EnhancerModel:
        """Load and check ``path``. Raises ModelError (missing, damaged, contract mismatch)."""
        path = Path(path)
        if not path.is_file():
            raise ModelError(
                f"The model file {path} does not exist. Reinstall the application, or choose a model "
                "file with --model (CLI) / Settings (app)."
            )
        sha = checked_sha256(path) if verify_checksum else file_sha256(path)
        session, report = create_session(path, request=provider, device=device, settings=settings)
        contract = ModelContract.from_metadata(session.get_modelmeta().custom_metadata_map, path)
        _check_signature(session, path)
        chosen = settings.for_precision(contract.precision)
        if chosen != settings:
            # The precision is known only from the loaded file's metadata; a CPU session is rebuilt with
            # the arena it chooses (tens of ms); the arena is the CPU provider's, so a GPU session stays.
            if report.active == CPU:
                session = cpu_session(path, chosen)
            settings = chosen
        log.info("Loaded %s (%s %s) on %s", path, contract.name, contract.version, report.active)
        return cls(path=path, contract=contract, sha256=sha, session=session, provider=report,
                   settings=settings)

    def run(self, image: np.ndarray, attention: np.ndarray) -> np.ndarray:
        """Run one tile.

        image: N x 3 x H x W float32 in [-1, 1]; attention: N x 1 x H x W float32 in [0, 1]; H and W
        multiples of ``contract.size_multiple``. Returns N x 3 x H x W float32, about [-1, 1], unclamped.
        A failure of a GPU session rebuilds the session on the CPU (recorded in ``provider``) and retries.
        Safe to call from several threads at once.
        """
        feeds = {"image": image, "attention": attention}
        session = self._session
        try:
            return self._outputs(session, feeds)
        except Exception as exc:  # ONNX Runtime's run errors share no base class below Exception.
            if session.get_providers() == [CPU]:
                raise ModelError(f"The model {self.path.name} failed on this image: {exc}") from exc
            session = self._fall_back(session, exc)
        return self._outputs(session, feeds)

    @staticmethod
    def _outputs(session: ort.InferenceSession, feeds: dict[str, np.ndarray]) -> np.ndarray:
        output: np.ndarray = session.run([_OUTPUT], feeds)[0]
        return output

    def _fall_back(self, failed: ort.InferenceSession, error: Exception) -> ort.InferenceSession:
        """The CPU session that replaces ``failed``: built by the first thread that saw it fail; the others
        find it built and run on it (their failure is the same one, not the CPU's)."""
        with self._fallback_lock:
            if self._session is failed:
                self._session = cpu_session(self.path, self.settings)
                self.provider = fall_back_report(self.provider, error)
            return self._session


def _check_signature(session: ort.InferenceSession, path: Path) -> None:
    inputs = {arg.name: arg.shape for arg in session.get_inputs()}
    outputs = {arg.name: arg.shape for arg in session.get_outputs()}
    for name, channels in _INPUTS.items():
        shape = inputs.get(name)
        if shape is None or len(shape) != 4 or shape[1] != channels:
            raise ModelError(
                f"{path} does not follow the model contract: input '{name}' [N, {channels}, H, W] is "
                f"missing or has shape {shape}. Use a model exported for this version."
            )
    if len(outputs.get(_OUTPUT) or []) != 4:
        raise ModelError(f"{path} does not follow the model contract: output '{_OUTPUT}' is missing.")
